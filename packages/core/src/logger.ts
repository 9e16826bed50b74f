/** Structured logging, shaped so a pino logger can be passed as it is. */
export interface Logger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
  child(bindings: object): Logger;
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;

/** A logger that writes one JSON line per entry to stderr at or above `level`. */
export function consoleLogger(level: LogLevel = 'warn', bindings: object = {}): Logger {
  const at = LEVELS[level];
  const write = (name: Exclude<LogLevel, 'silent'>) => (fields: object, message: string) => {
    if (LEVELS[name] < at) return;
    process.stderr.write(JSON.stringify({ level: name, time: new Date().toISOString(), ...bindings, ...fields, msg: message }) + '\n');
  };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (more) => consoleLogger(level, { ...bindings, ...more }),
  };
}

/** A logger that drops everything. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
