// How the local stack prints its processes' output: pretty (pino-pretty) on a terminal, the services' JSON lines
// unchanged otherwise (a pipe, a file, a log collector), and LOG_FORMAT=json|pretty to choose either way.
import pinoPretty from 'pino-pretty';

export const LOG_FORMATS = ['json', 'pretty'];

/** The format to print in: LOG_FORMAT when set, else pretty on a terminal and JSON elsewhere. */
export function chooseLogFormat({ env = process.env, isTTY = process.stdout.isTTY === true } = {}) {
  const asked = env.LOG_FORMAT;
  if (asked === undefined || asked === '') return isTTY ? 'pretty' : 'json';
  if (!LOG_FORMATS.includes(asked)) throw new Error(`LOG_FORMAT must be one of ${LOG_FORMATS.join(', ')}, not "${asked}"`);
  return asked;
}

/**
 * A function from one output line of a process to the lines to print. Pretty: a JSON log line of the services'
 * shape (messageKey `message`, level labels, ISO time) becomes one line, time, level and message first; the
 * service name is left out because the stack prefixes every line with the process name. Anything else (NGINX,
 * the stores, a stack trace) passes unchanged.
 */
export function lineFormatter(format, { colorize = false } = {}) {
  if (format === 'json') return (line) => [line];
  const pretty = pinoPretty.prettyFactory({
    messageKey: 'message',
    colorize,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
  });
  return (line) => {
    if (!line.startsWith('{')) return [line];
    return pretty(line).replace(/\n$/, '').split('\n');
  };
}
