import { KeyedSerializer } from './keyed-serializer';

/** A task the test finishes by hand, recording when it started. */
function gate(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    task: async () => {
      log.push(`start ${name}`);
      await done;
      log.push(`end ${name}`);
    },
    finish,
  };
}

describe('KeyedSerializer', () => {
  it('runs tasks of one key strictly in order, never overlapping', async () => {
    const serializer = new KeyedSerializer();
    const log: string[] = [];
    const create = gate(log, 'create');
    const cancel = gate(log, 'cancel');
    const first = serializer.run('d1', create.task);
    const second = serializer.run('d1', cancel.task);
    await Promise.resolve();
    expect(log).toEqual(['start create']);
    cancel.finish(); // finishing the later task early must not let it start before the first ends
    await Promise.resolve();
    expect(log).toEqual(['start create']);
    create.finish();
    await Promise.all([first, second]);
    expect(log).toEqual(['start create', 'end create', 'start cancel', 'end cancel']);
  });

  it('runs different keys in parallel', async () => {
    const serializer = new KeyedSerializer();
    const log: string[] = [];
    const a = gate(log, 'a');
    const b = gate(log, 'b');
    const runs = [serializer.run('d1', a.task), serializer.run('d2', b.task)];
    await Promise.resolve();
    expect(log).toEqual(['start a', 'start b']);
    a.finish();
    b.finish();
    await Promise.all(runs);
  });

  it('keeps going after a failed task and forgets idle keys', async () => {
    const serializer = new KeyedSerializer();
    await expect(serializer.run('d1', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(serializer.run('d1', async () => 'next')).resolves.toBe('next');
    await new Promise((resolve) => setImmediate(resolve));
    expect(serializer.activeKeys).toBe(0);
  });
});
