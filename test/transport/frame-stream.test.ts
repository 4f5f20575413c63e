import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FrameDecoder } from '../../src/codec/framing.js';
import { FrameStream, payloadBytes } from '../../src/transport/frame-stream.js';
import { thrown } from '../helpers/errors.js';

/** A FrameStream over a stream that records every chunk written to it. */
function recorded(maxFrameBytes = 1024): { frames: FrameStream; written: Buffer[] } {
  const written: Buffer[] = [];
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, done) {
      written.push(chunk);
      done();
    },
  });
  return { frames: new FrameStream(stream, maxFrameBytes), written };
}

const bytes = (text: string) => Buffer.from(text, 'utf8');
const decode = (chunks: Buffer[]) => new FrameDecoder().push(Buffer.concat(chunks)).map((f) => Buffer.from(f).toString('utf8'));

describe('frame stream', () => {
  it('frame stream — a batch of frames, whole or in parts, goes out as one write and decodes to the joined payloads', () => {
    const { frames, written } = recorded();
    frames.writeMany([bytes('plain'), [bytes('cipher'), bytes('text'), bytes('+tag')], [], bytes(''), [bytes('one part')]]);
    expect(written).toHaveLength(1);
    expect(decode(written)).toEqual(['plain', 'ciphertext+tag', '', '', 'one part']);
    frames.writeMany([[bytes('alone'), bytes('!')]]);
    expect(written).toHaveLength(2);
    expect(decode(written.slice(1))).toEqual(['alone!']);
  });

  it('frame stream — a payload over maxFrameBytes, counting all its parts, is refused with FRAME_TOO_LARGE and nothing is written', () => {
    const { frames, written } = recorded(10);
    const error = thrown(() => frames.writeMany([bytes('ok'), [bytes('123456'), bytes('78901')]]));
    expect(error.code).toBe('FRAME_TOO_LARGE');
    expect(error.message).toMatch(/11 bytes; expected at most maxFrameBytes = 10/);
    expect(written).toEqual([]);
    frames.writeMany([[bytes('12345'), bytes('67890')]]);
    expect(decode(written)).toEqual(['1234567890']);
  });

  it('frame stream — frames built in place get their length prefix and go out in one write, one frame without a copy', () => {
    const { frames, written } = recorded(10);
    /** A frame with room for its prefix (filled with junk, which must be overwritten) and then `text`. */
    const inPlace = (text: string) => Buffer.concat([Buffer.from([9, 9, 9, 9]), bytes(text)]);
    const one = inPlace('single');
    frames.writeInPlace([one]);
    expect(written[0]).toBe(one);
    frames.writeInPlace([inPlace('a'), inPlace(''), inPlace('1234567890')]);
    expect(written).toHaveLength(2);
    expect(decode(written)).toEqual(['single', 'a', '', '1234567890']);
    const error = thrown(() => frames.writeInPlace([inPlace('ok'), inPlace('12345678901')]));
    expect(error.code).toBe('FRAME_TOO_LARGE');
    expect(error.message).toMatch(/11 bytes; expected at most maxFrameBytes = 10/);
    expect(written).toHaveLength(2);
  });

  it('frame stream — payloadBytes counts a whole payload or the sum of its parts', () => {
    expect(payloadBytes(bytes('abc'))).toBe(3);
    expect(payloadBytes([bytes('ab'), bytes(''), bytes('cde')])).toBe(5);
    expect(payloadBytes([])).toBe(0);
  });
});
