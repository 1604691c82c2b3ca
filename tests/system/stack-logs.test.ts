import { chooseLogFormat, lineFormatter } from '../../tools/local/log-format.mjs';

/** How `npm start` prints its processes' output (tools/local/log-format.mjs); unit tests, no stack started. */
describe('the log format', () => {
  it('is pretty on a terminal and JSON when stdout is not one', () => {
    expect(chooseLogFormat({ env: {}, isTTY: true })).toBe('pretty');
    expect(chooseLogFormat({ env: {}, isTTY: false })).toBe('json');
    expect(chooseLogFormat({ env: { LOG_FORMAT: '' }, isTTY: true })).toBe('pretty');
  });

  it('is what LOG_FORMAT asks for either way, and a misspelt LOG_FORMAT is refused', () => {
    expect(chooseLogFormat({ env: { LOG_FORMAT: 'json' }, isTTY: true })).toBe('json');
    expect(chooseLogFormat({ env: { LOG_FORMAT: 'pretty' }, isTTY: false })).toBe('pretty');
    expect(() => chooseLogFormat({ env: { LOG_FORMAT: 'JSON-lines' }, isTTY: true })).toThrow(/LOG_FORMAT must be one of json, pretty/);
  });
});

const startup = JSON.stringify({
  level: 'info',
  time: '2027-01-01T10:00:00.000Z',
  service: 'gateway',
  context: 'lifecycle',
  url: 'http://127.0.0.1:3000',
  settings: 'PORT=3000 REDIS_PASSWORD=[redacted] (20 more at their defaults)',
  message: 'gateway listening',
});

describe('the line formatter', () => {
  it('json: every line unchanged', () => {
    const format = lineFormatter('json');
    expect(format(startup)).toEqual([startup]);
    expect(format('nginx: [warn] plain text')).toEqual(['nginx: [warn] plain text']);
  });

  it('pretty: a service log line becomes one line with level and message first, the service name left to the prefix', () => {
    const [line, ...more] = lineFormatter('pretty')(startup);
    expect(more).toEqual([]);
    expect(line).toMatch(/^\[\d{2}:\d{2}:\d{2}\.000\] INFO: gateway listening /);
    expect(line).toContain('"settings":"PORT=3000 REDIS_PASSWORD=[redacted] (20 more at their defaults)"');
    expect(line).not.toContain('"service"');
    expect(line).not.toContain('\u001b['); // no colours unless asked
  });

  it('pretty: an error keeps its stack, one printed line per stack line; text that is not JSON passes unchanged', () => {
    const error = JSON.stringify({
      level: 'error',
      time: '2027-01-01T10:00:00.000Z',
      service: 'workflow',
      err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at step (saga.ts:1:1)' },
      message: 'step failed',
    });
    const lines = lineFormatter('pretty')(error);
    expect(lines[0]).toMatch(/ERROR: step failed/);
    expect(lines.some((line) => line.trim() === 'at step (saga.ts:1:1)')).toBe(true);
    expect(lines.every((line) => !line.includes('\n'))).toBe(true);
    expect(lineFormatter('pretty')('{ not json')).toEqual(['{ not json']);
    expect(lineFormatter('pretty')('redis: Ready to accept connections')).toEqual(['redis: Ready to accept connections']);
  });

  it('pretty with colours on a terminal', () => {
    expect(lineFormatter('pretty', { colorize: true })(startup)[0]).toContain('\u001b[');
  });
});
