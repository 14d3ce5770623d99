"""JSON-RPC over HTTP and WebSocket, one endpoint per chain."""
