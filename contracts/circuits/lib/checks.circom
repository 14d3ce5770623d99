pragma circom 2.1.0;

include "circomlib/circuits/bitify.circom";

// x != 0, by its inverse: one constraint.
template NonZero() {
    signal input in;
    signal inverse <-- in != 0 ? 1 / in : 0;
    inverse * in === 1;
}

// 0 <= in < 2^n. Every new balance, count and difference goes through one, so that no value
// can wrap around the field (a "negative" balance is p - x, far above 2^96).
template RangeCheck(n) {
    signal input in;
    _ <== Num2Bits(n)(in);
}

// A word of public input as its fields, little-endian (the first field takes the lowest
// bits), each range-checked to its width. The widths add up to at most 252 bits, so a word
// has exactly one decomposition.
template UnpackWord(n, widths) {
    var total = 0;
    for (var i = 0; i < n; i++) {
        total += widths[i];
    }
    assert(total <= 252);
    signal input word;
    signal output fields[n];
    signal output bits[total];

    bits <== Num2Bits(total)(word);
    var offset = 0;
    for (var i = 0; i < n; i++) {
        var field = 0;
        for (var j = 0; j < widths[i]; j++) {
            field += bits[offset + j] * (1 << j);
        }
        fields[i] <== field;
        offset += widths[i];
    }
}
