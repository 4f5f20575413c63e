/**
 * Published test vectors, copied as data (hex strings) for the crypto tests.
 *
 * Noise: the cacophony vector for `Noise_NNpsk0_25519_ChaChaPoly_SHA256`, as stored in the public
 * repository plizonczyk/noiseprotocol, file `tests/vectors/cacophony.txt` (commit 5cb44836), whose
 * own test suite checks `handshake_hash`. The same vector (identical keys, messages and
 * ciphertexts) is also in mcginty/snow, `tests/vectors/cacophony.txt`, but that older copy carries
 * a `handshake_hash` from an earlier cacophony generation that no spec-conformant implementation
 * reproduces (its `Noise_NN_25519_ChaChaPoly_SHA256` hash disagrees the same way), so the value
 * here is the corrected one. Messages 0 and 1 are the handshake; messages 2 to 5 are transport
 * messages after `Split()`, alternating initiator → responder, responder → initiator, ...
 *
 * RFC vectors: RFC 7748 §5.2 and §6.1 (X25519), RFC 8439 §2.8.2 (ChaCha20-Poly1305 AEAD),
 * RFC 5869 appendix A test cases 1 and 3 (HKDF-SHA256), RFC 4231 test case 2 (HMAC-SHA256),
 * FIPS 180-2 appendix B.1 (SHA-256 of "abc").
 */

export interface NoiseVector {
  readonly protocolName: string;
  readonly initPrologue: string;
  readonly initPsks: readonly string[];
  readonly initEphemeral: string;
  readonly respPrologue: string;
  readonly respPsks: readonly string[];
  readonly respEphemeral: string;
  readonly handshakeHash: string;
  readonly messages: readonly { readonly payload: string; readonly ciphertext: string }[];
}

export const CACOPHONY_NNPSK0_25519_CHACHAPOLY_SHA256: NoiseVector = {
  protocolName: 'Noise_NNpsk0_25519_ChaChaPoly_SHA256',
  initPrologue: '4a6f686e2047616c74',
  initPsks: ['54686973206973206d7920417573747269616e20706572737065637469766521'],
  initEphemeral: '893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a',
  respPrologue: '4a6f686e2047616c74',
  respPsks: ['54686973206973206d7920417573747269616e20706572737065637469766521'],
  respEphemeral: 'bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b',
  handshakeHash: 'f4d03dc34495c95729ea6de9e1b59004b59733102488b3e24bc441e0be208eaf',
  messages: [
    {
      payload: '4c756477696720766f6e204d69736573',
      ciphertext:
        'ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c794479b962b8aff8485742ac32f905ba45369e2465fb59e138a93d67a0d1266b6a54',
    },
    {
      payload: '4d757272617920526f746862617264',
      ciphertext:
        '95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843d6062704d5a9c422a8e834423f8c1feada7e8d0d910a1a2cd030fb584221e3',
    },
    { payload: '462e20412e20486179656b', ciphertext: 'e632c3763d7669067383433197a3baddf146e9e70ad4b4e9e59e0f' },
    { payload: '4361726c204d656e676572', ciphertext: '64c6bee32ea91c8474bb4c21d7a700109ad45af77b29764ba5eb1e' },
    {
      payload: '4a65616e2d426170746973746520536179',
      ciphertext: 'e2fa0bed0603b62d3ccac2ecabbf3fe33f3e86514909b323361626266cb2471cc8',
    },
    {
      payload: '457567656e2042f6686d20766f6e2042617765726b',
      ciphertext: '0c01dc9cec1fe4ddd692e8dd32188aa351088dc91183639a53b57aa4692b5ebdef8b8ca111',
    },
  ],
};

/** RFC 7748 §5.2: single X25519 invocations (scalar, u-coordinate, output). */
export const RFC7748_X25519 = [
  {
    scalar: 'a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4',
    u: 'e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c',
    output: 'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552',
  },
  {
    scalar: '4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d',
    u: 'e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493',
    output: '95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957',
  },
] as const;

/** RFC 7748 §5.2: k = u = 9, then k, u = X25519(k, u), k; k after 1 and after 1000 iterations. */
export const RFC7748_X25519_ITERATED = {
  start: '0900000000000000000000000000000000000000000000000000000000000000',
  after1: '422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079',
  after1000: '684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51',
} as const;

/** RFC 7748 §6.1: Diffie-Hellman between Alice and Bob. */
export const RFC7748_DH = {
  alicePrivate: '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
  alicePublic: '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
  bobPrivate: '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb',
  bobPublic: 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
  shared: '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
} as const;

/** RFC 8439 §2.8.2: the AEAD_CHACHA20_POLY1305 example. */
export const RFC8439_AEAD = {
  key: '808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f',
  nonce: '070000004041424344454647',
  aad: '50515253c0c1c2c3c4c5c6c7',
  plaintext:
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
  ciphertext:
    'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116',
  tag: '1ae10b594f09e26a7e902ecbd0600691',
} as const;

/** RFC 5869 appendix A: HKDF-SHA256 test cases 1 (basic) and 3 (zero-length salt and info). */
export const RFC5869_HKDF = [
  {
    name: 'test case 1',
    ikm: '0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b',
    salt: '000102030405060708090a0b0c',
    info: 'f0f1f2f3f4f5f6f7f8f9',
    length: 42,
    okm: '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
  },
  {
    name: 'test case 3',
    ikm: '0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b',
    salt: '',
    info: '',
    length: 42,
    okm: '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
  },
] as const;

/** RFC 4231 test case 2: HMAC-SHA256 with key "Jefe". */
export const RFC4231_HMAC = {
  key: '4a656665',
  data: 'what do ya want for nothing?',
  mac: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
} as const;

/** FIPS 180-2 appendix B.1: SHA-256("abc"). */
export const FIPS180_SHA256_ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
