import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { getHeapStatistics } from 'node:v8'
import { Ajv } from 'ajv'
import { Type, type Static } from 'typebox'
import { automaticMaxConnections } from './open-file-limit.js'
import { DEFAULT_MAX_KILN_FILE_BYTES, DEFAULT_MAX_RUN_FILE_BYTES, MAX_FILE_BYTES_CEILING } from './source/mounted/kiln-files.js'
import { DEFAULT_MAX_WORK_CHARS } from './validate/work-budget.js'

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/**
 * Every environment variable the service reads, with its default. Validated once at start-up;
 * nothing else in the code reads `process.env`.
 */
export const ConfigSchema = Type.Object({
  /** TCP port to listen on (0 picks a free one). */
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000, description: 'TCP port to listen on (0 picks a free port).' }),
  /** Interface to bind; 127.0.0.1 keeps a dev server private, containers use 0.0.0.0. */
  HOST: Type.String({ minLength: 1, default: '127.0.0.1', description: 'Interface to bind; use 0.0.0.0 in a container.' }),
  /** pino log level. */
  LOG_LEVEL: Type.Enum(LOG_LEVELS, { default: 'info', description: 'pino log level.' }),
  /** Largest accepted request body in bytes: 128 MiB holds about 50,000 typical Kiln runs inline. */
  BODY_LIMIT: Type.Integer({
    minimum: 1024,
    default: 128 * 1024 * 1024,
    description: 'Largest request body in bytes (default 128 MiB, about 50,000 typical Kiln runs inline); larger bodies get 413.'
  }),
  /** Folder of mounted Kiln projects; unset means the example project shipped in the repo. */
  KILN_PROJECTS_DIR: Type.Optional(Type.String({
    minLength: 1,
    // No `..` segments: the one folder the service may read should be named plainly.
    pattern: '^(?!(.*[/\\\\])?\\.\\.([/\\\\]|$))',
    description: 'A Kiln project folder (holds project.kiln) or a folder of project folders; read-only. Default: examples/kiln-project.'
  })),
  /** Largest project.kiln, task.kiln or dataset_split.kiln read; a larger one is refused by name. */
  MAX_KILN_FILE_BYTES: Type.Integer({
    minimum: 1024,
    maximum: MAX_FILE_BYTES_CEILING,
    default: DEFAULT_MAX_KILN_FILE_BYTES,
    description: 'Largest project.kiln, task.kiln or dataset_split.kiln read, in bytes (default 256 MiB; a 1M-run split is 22 MB); a larger file is refused by name (KEX_KILN_FILE_TOO_LARGE).'
  }),
  /** Largest task_run.kiln read; run files are read 64 at a time, hence a lower limit. */
  MAX_RUN_FILE_BYTES: Type.Integer({
    minimum: 1024,
    maximum: MAX_FILE_BYTES_CEILING,
    default: DEFAULT_MAX_RUN_FILE_BYTES,
    description: 'Largest task_run.kiln read, in bytes (default 16 MiB; Kiln runs are a few KB); a larger one refuses its run (KEX_TASK_RUN_INVALID).'
  }),
  /** Log format: pretty when a person watches a terminal, JSON otherwise. */
  LOG_FORMAT: Type.Enum(['auto', 'json', 'pretty'] as const, {
    default: 'auto',
    description: 'auto: pretty on a terminal, JSON otherwise.'
  }),
  /** Bearer token every route but the probes (and the docs) requires; unset means no auth. */
  API_TOKEN: Type.Optional(Type.String({ minLength: 16, description: 'Bearer token required on every API route but /health and /ready; at least 16 characters. Unset: no auth.' })),
  /** Exports running at once; one more is answered 503 with Retry-After. */
  MAX_CONCURRENT_EXPORTS: Type.Integer({ minimum: 1, default: 4, description: 'Exports running at once; more get 503 with Retry-After. Exports are CPU-bound: about twice the cores.' }),
  /** JSONL bytes a second below which an export whose client is the bottleneck gives its slot to a waiting export. */
  EXPORT_MIN_BYTES_PER_SECOND: Type.Integer({
    minimum: 0,
    default: 256 * 1024,
    description: 'When every export slot is taken, a new export takes the slot of the export whose client read the least over ' +
      'EXPORT_RATE_WINDOW_MS, if it read slower than this (JSONL bytes a second, before compression) while the server waited on it; ' +
      'that export is cut. 0: never.'
  }),
  /** The window over which an export's rate is measured. */
  EXPORT_RATE_WINDOW_MS: Type.Integer({ minimum: 1000, default: 10_000, description: 'The window (ms) over which EXPORT_MIN_BYTES_PER_SECOND is measured.' }),
  /** Longest an export may run; then it is cut. */
  EXPORT_DEADLINE_MS: Type.Integer({
    minimum: 0,
    default: 3_600_000,
    description: 'Longest an export (or validation) may run, in ms (0: no limit); a stream past it is cut, without the final chunk and trailers.'
  }),
  /** Event-loop delay (ms) past which requests get 503 (see src/http/pressure.ts). */
  MAX_EVENT_LOOP_DELAY_MS: Type.Integer({ minimum: 0, default: 1000, description: 'Event-loop delay in ms past which requests get 503 (0: off).' }),
  /** Heap in use past which requests get 503; 0 picks 85% of the V8 heap limit. */
  MAX_HEAP_USED_BYTES: Type.Integer({ minimum: 0, default: 0, description: 'Heap bytes in use past which requests get 503 (0: 85% of the V8 heap limit).' }),
  /** Connections open at once; one more is closed at once. 0: three quarters of the open-file limit, at most 1024. */
  MAX_CONNECTIONS: Type.Integer({
    minimum: 0,
    default: 0,
    description: 'Connections open at once; more are closed on arrival (0: three quarters of the open-file limit, at most 1024).'
  }),
  /** Time allowed to receive a request's head (line and headers). */
  HEADERS_TIMEOUT_MS: Type.Integer({ minimum: 1000, default: 10_000, description: 'Time allowed to receive a request\'s head (ms); then 408.' }),
  /** Time allowed to receive a whole request (headers and body). */
  REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 1000, default: 120_000, description: 'Time allowed to receive a whole request, body included (ms); then 408.' }),
  /** A socket idle this long (client not reading, not sending) is closed. */
  CONNECTION_TIMEOUT_MS: Type.Integer({
    minimum: 1000,
    default: 600_000,
    description: 'A connection idle this long (ms) is closed, e.g. a client that stops reading. It must cover the check pass of the largest export, which sends nothing until every run is checked.'
  }),
  /** Accept Kiln's current format names (`vertex_gemini`, Kiln's name since April 2025); on by default. */
  FORMAT_ALIASES: Type.Boolean({ default: true, description: 'Accept Kiln\'s current format names (vertex_gemini = vertex_gemini_1_5, same lines). false: only the canonical names (no aliases).' }),
  /** A price table used instead of data/prices.json for the validation report's cost estimates. */
  PRICES_FILE: Type.Optional(Type.String({
    minLength: 1,
    description: 'A JSON price table shaped like data/prices.json, used instead of it for the validation report\'s cost estimates. Default: data/prices.json.'
  })),
  /** Work one validation report may do, in characters: past it, 422 instead of a report that ties up a core. */
  VALIDATE_MAX_CHARS: Type.Integer({
    minimum: 1024,
    default: DEFAULT_MAX_WORK_CHARS,
    description: 'Characters of work one validation report may do: the lines it formats and checks plus the texts it tokenizes (a text repeated on many lines, such as the system message, counts once). ' +
      'Past it the report is refused with 422 KEX_VALIDATION_TOO_LARGE. Default 512 Mi, about a 250 MB training file.'
  }),
  /** Folder of the exports' private spool files (src/export/spool.ts). */
  SPOOL_DIR: Type.Optional(Type.String({
    minLength: 1,
    description: 'Folder for the exports\' private spool files (each line is formatted once, written there, then streamed; the file is unlinked as soon as it is made). ' +
      'Default: the OS temp folder. A folder that cannot be written makes exports run in two passes instead.'
  })),
  /** Spool bytes all running exports may hold at once; past it an export streams the rest from a second pass. 0: no spool. */
  SPOOL_MAX_BYTES: Type.Integer({
    minimum: 0,
    default: 2 * 1024 ** 3,
    description: 'Disk bytes the spool files of all running exports may hold at once (default 2 GiB; a 100k-run export spools about 120 MB). ' +
      'An export past it, or on a full disk, streams the rest from a second pass over the runs. 0: no spool (every export runs in two passes).'
  }),
  /** Redis for export jobs (BullMQ); unset: jobs run in this process. */
  REDIS_URL: Type.Optional(Type.String({
    pattern: '^rediss?://',
    description: 'redis:// or rediss:// URL of the Redis that queues export jobs (BullMQ); every server and `kiln-export worker` given the same URL and EXPORT_QUEUE shares the work. ' +
      'Unset: jobs run inside this process, results on local disk. Redis should persist (AOF) for queued jobs to survive its restart.'
  })),
  /** Folder of export job results (the local result store). */
  EXPORTS_DIR: Type.Optional(Type.String({
    minLength: 1,
    pattern: '^(?!(.*[/\\\\])?\\.\\.([/\\\\]|$))',
    description: 'Folder where export job results are written (created if missing; must be writable, e.g. a volume when the root file system is read-only). ' +
      'Shared by every process that runs or serves jobs. Default: kiln-export-results under the OS temp folder.'
  })),
  /** An S3-compatible bucket for export job results instead of EXPORTS_DIR. */
  EXPORTS_S3_URL: Type.Optional(Type.String({ pattern: '^s3://', description: 'An S3-compatible bucket (s3://bucket/prefix) for export job results instead of EXPORTS_DIR.' })),
  /** An S3-compatible server for EXPORTS_S3_URL (MinIO, s3rver, ...); unset: AWS S3. */
  EXPORTS_S3_ENDPOINT: Type.Optional(Type.String({
    pattern: '^https?://',
    description: 'The endpoint of an S3-compatible server (MinIO, Ceph, s3rver, ...) for EXPORTS_S3_URL, addressed path-style. Unset: AWS S3. Credentials come from the AWS SDK\'s usual chain (AWS_ACCESS_KEY_ID, a profile, an instance or pod role).'
  })),
  /** The AWS region of the EXPORTS_S3_URL bucket. */
  AWS_REGION: Type.Optional(Type.String({ minLength: 1, description: 'The region of the EXPORTS_S3_URL bucket (default us-east-1; S3-compatible servers mostly ignore it).' })),
  /** How long export job results (and finished jobs) are kept. */
  EXPORTS_TTL: Type.String({
    pattern: '^[0-9]+(ms|s|m|h|d)?$',
    default: '24h',
    description: 'How long an export job\'s result (and the finished job) is kept: a number of ms, or with a unit (s, m, h, d). Default 24h.'
  }),
  /** Whether this server also runs export jobs. */
  EXPORT_WORKERS: Type.Boolean({
    default: true,
    description: 'Run export jobs in this server. false: the server only queues them (REDIS_URL) for `kiln-export worker` processes. Without REDIS_URL jobs always run in the server.'
  }),
  /** Export jobs one process runs at once. */
  EXPORT_JOB_CONCURRENCY: Type.Integer({ minimum: 1, default: 1, description: 'Export jobs one process (server or worker) runs at once. Jobs are CPU-bound: at most the cores.' }),
  /** BullMQ lock duration: how soon a dead worker's job is redone. */
  EXPORT_JOB_LOCK_MS: Type.Integer({
    minimum: 1000,
    default: 30_000,
    description: 'With REDIS_URL: a worker renews its lock on a job at half this interval; a job whose worker died (killed, machine lost) is redone by another worker after about this long (up to twice).'
  }),
  /** The BullMQ queue name. */
  EXPORT_QUEUE: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', default: 'kiln-export', description: 'With REDIS_URL: the queue name; processes with the same REDIS_URL and queue share jobs.' }),
  /** How long running exports may take to finish after SIGTERM/SIGINT before the process exits anyway. */
  SHUTDOWN_GRACE_MS: Type.Integer({ minimum: 0, default: 30_000, description: 'After SIGTERM/SIGINT, how long running exports may take to finish (ms).' })
}, { additionalProperties: true })

/** The raw, validated environment. */
export type Env = Static<typeof ConfigSchema>

/** The service's configuration, as the app and server use it. */
export interface Config {
  readonly port: number
  readonly host: string
  readonly logLevel: Env['LOG_LEVEL']
  readonly bodyLimit: number
  readonly logFormat: Env['LOG_FORMAT']
  /** Absolute path of the mounted Kiln projects folder. */
  readonly projectsDir: string
  readonly maxKilnFileBytes: number
  readonly maxRunFileBytes: number
  readonly apiToken: string | undefined
  readonly maxConcurrentExports: number
  readonly exportMinBytesPerSecond: number
  readonly exportRateWindowMs: number
  readonly exportDeadlineMs: number
  readonly maxEventLoopDelayMs: number
  readonly maxHeapUsedBytes: number
  /** Resolved: never 0. */
  readonly maxConnections: number
  readonly headersTimeoutMs: number
  readonly requestTimeoutMs: number
  readonly connectionTimeoutMs: number
  readonly shutdownGraceMs: number
  readonly formatAliases: boolean
  /** Absolute path of the price table that replaces data/prices.json, or undefined. */
  readonly pricesFile: string | undefined
  readonly validateMaxChars: number
  /** Absolute path of the spool folder. */
  readonly spoolDir: string
  readonly spoolMaxBytes: number
  readonly redisUrl: string | undefined
  /** Absolute path of the local result store. */
  readonly exportsDir: string
  readonly exportsS3Url: string | undefined
  readonly exportsS3Endpoint: string | undefined
  readonly awsRegion: string | undefined
  /** EXPORTS_TTL in ms. */
  readonly exportsTtlMs: number
  readonly exportWorkers: boolean
  readonly exportJobConcurrency: number
  readonly exportJobLockMs: number
  readonly exportQueue: string
}

/** The default EXPORTS_DIR: works for `npm start` with nothing else, and in a container whose /tmp is writable. */
export const DEFAULT_EXPORTS_DIR = join(tmpdir(), 'kiln-export-results')

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/** `24h`, `30m`, `90s`, `1d` or a number of ms, in ms. */
export function parseDuration (text: string): number {
  const match = /^([0-9]+)(ms|s|m|h|d)?$/.exec(text)
  if (match === null) throw new ConfigError(`Not a duration: ${JSON.stringify(text)}`)
  return Number(match[1]) * UNIT_MS[(match[2] ?? 'ms') as keyof typeof UNIT_MS]
}

/** The example Kiln project shipped in the repo (src/ and dist/ both sit one level below the root). */
export const EXAMPLE_PROJECT_DIR = fileURLToPath(new URL('../examples/kiln-project', import.meta.url))

/** A configuration problem found at start-up: the message names every bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

// Environment values are strings: coercion is wanted here (and only here, params and querystrings aside).
const validateEnv = new Ajv({ coerceTypes: true, useDefaults: true, allErrors: true, strict: false }).compile(ConfigSchema)

/** Validate the environment and apply defaults; throws ConfigError naming each invalid variable. */
export function loadConfig (env: Readonly<Record<string, string | undefined>>): Config {
  const known = Object.keys(ConfigSchema.properties)
  const values: Record<string, unknown> = {}
  for (const key of known) {
    const value = env[key]
    // An empty variable means "use the default", as in most twelve-factor services.
    if (value !== undefined && value !== '') values[key] = value
  }
  if (!validateEnv(values)) {
    // Name the variable, never echo its value (API_TOKEN is one of them).
    const problems = (validateEnv.errors ?? []).map((e) => `${e.instancePath.slice(1) || 'environment'} ${e.message ?? 'is invalid'}`)
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`)
  }
  const parsed = values as Env
  return {
    port: parsed.PORT,
    host: parsed.HOST,
    logLevel: parsed.LOG_LEVEL,
    bodyLimit: parsed.BODY_LIMIT,
    logFormat: parsed.LOG_FORMAT,
    projectsDir: parsed.KILN_PROJECTS_DIR === undefined ? EXAMPLE_PROJECT_DIR : resolve(parsed.KILN_PROJECTS_DIR),
    maxKilnFileBytes: parsed.MAX_KILN_FILE_BYTES,
    maxRunFileBytes: parsed.MAX_RUN_FILE_BYTES,
    apiToken: parsed.API_TOKEN,
    maxConcurrentExports: parsed.MAX_CONCURRENT_EXPORTS,
    exportMinBytesPerSecond: parsed.EXPORT_MIN_BYTES_PER_SECOND,
    exportRateWindowMs: parsed.EXPORT_RATE_WINDOW_MS,
    exportDeadlineMs: parsed.EXPORT_DEADLINE_MS,
    maxEventLoopDelayMs: parsed.MAX_EVENT_LOOP_DELAY_MS,
    maxHeapUsedBytes: parsed.MAX_HEAP_USED_BYTES === 0 ? Math.floor(getHeapStatistics().heap_size_limit * 0.85) : parsed.MAX_HEAP_USED_BYTES,
    maxConnections: parsed.MAX_CONNECTIONS === 0 ? automaticMaxConnections() : parsed.MAX_CONNECTIONS,
    headersTimeoutMs: parsed.HEADERS_TIMEOUT_MS,
    requestTimeoutMs: parsed.REQUEST_TIMEOUT_MS,
    connectionTimeoutMs: parsed.CONNECTION_TIMEOUT_MS,
    shutdownGraceMs: parsed.SHUTDOWN_GRACE_MS,
    formatAliases: parsed.FORMAT_ALIASES,
    pricesFile: parsed.PRICES_FILE === undefined ? undefined : resolve(parsed.PRICES_FILE),
    validateMaxChars: parsed.VALIDATE_MAX_CHARS,
    spoolDir: resolve(parsed.SPOOL_DIR ?? tmpdir()),
    spoolMaxBytes: parsed.SPOOL_MAX_BYTES,
    redisUrl: parsed.REDIS_URL,
    exportsDir: parsed.EXPORTS_DIR === undefined ? DEFAULT_EXPORTS_DIR : resolve(parsed.EXPORTS_DIR),
    exportsS3Url: parsed.EXPORTS_S3_URL,
    exportsS3Endpoint: parsed.EXPORTS_S3_ENDPOINT,
    awsRegion: parsed.AWS_REGION,
    exportsTtlMs: parseDuration(parsed.EXPORTS_TTL),
    exportWorkers: parsed.EXPORT_WORKERS,
    exportJobConcurrency: parsed.EXPORT_JOB_CONCURRENCY,
    exportJobLockMs: parsed.EXPORT_JOB_LOCK_MS,
    exportQueue: parsed.EXPORT_QUEUE
  }
}
