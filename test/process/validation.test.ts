import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { type Behavior, type Message } from '../../src/index.js';
import { Node } from '../../src/node.js';
import { rejection } from '../helpers/errors.js';

const nodes: Node[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
});
async function start(): Promise<Node> {
  const node = await Node.start();
  nodes.push(node);
  return node;
}
const Args = z.object({ start: z.number().int() });
const Call = z.discriminatedUnion('type', [z.object({ type: z.literal('get') }), z.object({ type: z.literal('add'), n: z.number() })]);
const Cast = z.object({ type: z.literal('inc'), by: z.number().positive() });

const account: Behavior<z.infer<typeof Args>, number, z.infer<typeof Call>, number, z.infer<typeof Cast>> = {
  schemas: { args: Args, call: Call, cast: Cast },
  init: (a) => a.start,
  handleCall: (msg, s) => (msg.type === 'get' ? [s, s] : [s + msg.n, s + msg.n]),
  handleCast: (msg, s) => s + msg.by,
};

describe('validation — Standard Schema', () => {
  it('args that fail the schema fail the spawn with BAD_REQUEST and the issues', async () => {
    const node = await start();
    const e = await rejection(node.spawn(account, { start: 1.5 }));
    expect(e.code).toBe('BAD_REQUEST');
    const issues = e.details?.issues as { message: string; path?: unknown[] }[];
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]!.path).toEqual(['start']);
    expect(node.processCount()).toBe(0);
  });

  it('a call that fails the schema is answered BAD_REQUEST and the process keeps its state', async () => {
    const node = await start();
    const ref = await node.spawn(account, { start: 10 });
    const e = await rejection(node.call(ref, { type: 'add', n: 'five' } as never));
    expect(e.code).toBe('BAD_REQUEST');
    expect(e.message).toMatch(/call to .* failed validation/);
    expect((e.details?.issues as { path?: unknown[] }[])[0]!.path).toEqual(['n']);
    expect(await node.call(ref, { type: 'add', n: 5 })).toBe(15);
  });

  it('a cast that fails the schema is dropped, reported, and the process keeps running', async () => {
    const node = await start();
    const ref = await node.spawn(account, { start: 0 });
    const dropped: string[] = [];
    node.on('messageDropped', (e) => dropped.push(e.why));
    node.cast(ref, { type: 'inc', by: -1 });
    node.cast(ref, { type: 'inc', by: 2 });
    expect(await node.call(ref, { type: 'get' })).toBe(2);
    expect(dropped).toHaveLength(1);
    expect(dropped[0]).toMatch(/failed validation/);
  });

  it('the validated (transformed) value is what the handler sees', async () => {
    const Trim = z.object({ type: z.literal('say'), text: z.string().transform((s) => s.trim()) });
    const echo: Behavior<undefined, null, z.output<typeof Trim>, string> = {
      schemas: { call: Trim as unknown as StandardSchemaV1<unknown, z.output<typeof Trim>> },
      init: () => null,
      handleCall: (msg, s) => [msg.text, s],
    };
    const node = await start();
    const ref = await node.spawn(echo, undefined);
    expect(await node.call(ref, { type: 'say', text: '  hi  ' })).toBe('hi');
  });

  it('async validators are awaited and keep message order', async () => {
    const asyncSchema: StandardSchemaV1<unknown, Message & { v: number }> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: async (value) => {
          await new Promise((r) => setImmediate(r));
          const v = (value as { v?: unknown }).v;
          return typeof v === 'number' ? { value: value as Message & { v: number } } : { issues: [{ message: 'v must be a number' }] };
        },
      },
    };
    const log: number[] = [];
    const b: Behavior<undefined, null, Message & { v: number }, number, Message & { v: number }> = {
      schemas: { call: asyncSchema, cast: asyncSchema },
      init: () => null,
      handleCast: (m, s) => {
        log.push(m.v);
        return s;
      },
      handleCall: (m, s) => [m.v, s],
    };
    const node = await start();
    const ref = await node.spawn(b, undefined);
    node.cast(ref, { type: 'x', v: 1 });
    node.cast(ref, { type: 'x', v: 2 });
    const bad = rejection(node.call(ref, { type: 'x', v: 'no' } as never));
    expect(await node.call(ref, { type: 'x', v: 3 })).toBe(3);
    expect((await bad).message).toMatch(/v must be a number/);
    expect(log).toEqual([1, 2]);
  });

  it('a validator that throws is reported as BAD_REQUEST, not a crash', async () => {
    const throwing: StandardSchemaV1<unknown, Message> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: () => {
          throw new Error('validator bug');
        },
      },
    };
    const b: Behavior<undefined, null, Message, null> = { schemas: { call: throwing }, init: () => null, handleCall: (_m, s) => [null, s] };
    const node = await start();
    const ref = await node.spawn(b, undefined);
    const e = await rejection(node.call(ref, { type: 'x' }));
    expect(e.code).toBe('BAD_REQUEST');
    expect(node.isAlive(ref)).toBe(true);
  });
});
