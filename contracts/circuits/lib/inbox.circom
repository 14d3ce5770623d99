pragma circom 2.1.0;

include "params.circom";
include "checks.circom";

// Fast-chain messages apply in the outbox's order, each at most once (ops.process_inbox):
// seq >= inbox, the lowest message number still to apply, and the inbox moves past seq.
// seq is below 2^64 (its word's range check) and inbox at most 2^64, so a replay (seq < inbox)
// wraps around the field to p - x and fails the range check. A message the chain refused
// leaves a gap, which later messages skip.
template Inbox() {
    signal input seq;
    signal input inbox;
    signal output newInbox;

    RangeCheck(SEQ_BITS())(seq - inbox);  // "message is a replay"
    newInbox <== seq + 1;
}
