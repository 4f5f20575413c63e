/**
 * The byte-stream seam under every link: something that can listen for and dial bidirectional
 * byte streams. TCP, TLS and the in-memory transport implement it; everything above (framing,
 * handshake, encryption, chunking) is shared, so the memory transport still encodes every frame.
 *
 * A stream transport knows addresses only; it knows nothing of node ids, processes or gossip.
 */
import type { Duplex } from 'node:stream';

/** Where a stream transport listens or dials. */
export interface StreamAddress {
  readonly host: string;
  readonly port: number;
}

/** A listening endpoint. */
export interface StreamListener {
  /** The address actually bound (the real port when 0 was asked for). */
  readonly address: StreamAddress;
  /** Stops accepting; streams already accepted stay open. */
  close(): Promise<void>;
}

/** Listens for and dials byte streams. */
export interface StreamTransport {
  /** A short name for logs: 'tcp', 'tls', 'memory'. */
  readonly name: string;
  /** Starts listening; every accepted stream goes to `onStream`. */
  listen(address: StreamAddress, onStream: (stream: Duplex, remote: StreamAddress) => void): Promise<StreamListener>;
  /** Dials an address; rejects with `NOCONNECTION` when it cannot be reached within `timeoutMs`. */
  connect(address: StreamAddress, timeoutMs: number): Promise<Duplex>;
}
