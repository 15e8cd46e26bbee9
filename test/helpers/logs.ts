import { Writable } from 'node:stream'
import { pino, type Logger } from 'pino'

/** One parsed pino line. */
export interface LogLine {
  readonly level: number
  readonly msg?: string
  readonly [field: string]: unknown
}

/** A pino logger (level trace) writing into an array, for assertions on what the service logs. */
export function capturingLogger (): { logger: Logger, lines: LogLine[], text: () => string } {
  const raw: string[] = []
  const lines: LogLine[] = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      raw.push(chunk.toString())
      lines.push(JSON.parse(chunk.toString()) as LogLine)
      done()
    }
  })
  return { logger: pino({ level: 'trace' }, stream), lines, text: () => raw.join('') }
}

/** pino's error level: what alerts page on. */
export const ERROR_LEVEL = 50
