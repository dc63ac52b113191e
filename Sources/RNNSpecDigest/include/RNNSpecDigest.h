// SHA-256 block compression with the CPU's SHA extensions, for rnnspec's case digests. The padding,
// the portable implementation and the choice between the two are in Swift (RNNSpec's SHA256).
#ifndef RNN_SPEC_DIGEST_H
#define RNN_SPEC_DIGEST_H

#include <stddef.h>
#include <stdint.h>

/// SHA-256's 64 round constants K (FIPS 180-4, 4.2.2).
const uint32_t *rnn_sha256_constants(void);

/// 1 when this CPU (and this build) can run `rnn_sha256_blocks`, else 0.
int rnn_sha256_hardware(void);

/// Compresses `blocks` 64-byte blocks of `data` into `state` (the eight words H0...H7), as FIPS 180-4
/// section 6.2.2 does. Call only when `rnn_sha256_hardware()` is 1.
void rnn_sha256_blocks(uint32_t state[8], const uint8_t *data, size_t blocks);

#endif
