"""ABCI++ (CometBFT v0.38's ABCI 2.0) over a socket: the framing, the server, and the
`Application` interface it drives. The message classes in `proto/` are generated."""
