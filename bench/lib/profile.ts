/**
 * Summarise a V8 `.cpuprofile` (node --cpu-prof): self time per function, grouped by category
 * (fs reads, JSON.parse, schema checks, formatting, Python-JSON dump, stream + socket, GC, ...).
 * Built-in frames (JSON.parse aside) and unrecognised node internals inherit their caller's category,
 * so e.g. the JSON.stringify inside the Python-JSON dumper counts as dumping.
 */

interface CallFrame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
}

interface ProfileNode {
  readonly id: number
  readonly callFrame: CallFrame
  readonly children?: readonly number[]
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[]
  readonly startTime: number
  readonly endTime: number
  readonly samples: readonly number[]
  readonly timeDeltas: readonly number[]
}

export interface ProfileSummary {
  /** Microseconds covered by the analysed samples. */
  readonly totalUs: number
  /** Whether the samples were restricted to the measured request's window. */
  readonly windowed: boolean
  readonly categories: ReadonlyArray<{ readonly name: string, readonly us: number }>
  readonly functions: ReadonlyArray<{ readonly name: string, readonly where: string, readonly category: string, readonly us: number }>
}

const PY_PARSE = /^(parsePythonJson|scan\w*|skipWs|isDigit|hexValue|isReprSpelled|codePointIndex|decodeError|fail)$/

/** The category a frame decides by itself, or undefined to inherit the caller's. */
function ownCategory (frame: CallFrame): string | undefined {
  const { functionName: fn, url } = frame
  if (fn === '(garbage collector)') return 'GC'
  if (fn === '(idle)') return 'idle (main thread waiting: thread-pool file I/O, socket)'
  if (fn === '(program)') return 'V8 / native, unattributed'
  if (fn === '(root)') return undefined
  if (url === '') {
    if (fn === 'parse') return 'JSON.parse (run and split files)'
    if (/^validate\d*$/.test(fn)) return 'schema check (ajv)'
    return undefined
  }
  if (/\/http\/jsonl-reply\.[jt]s$/.test(url) || url === 'node:internal/crypto/hash') return 'response trailers (SHA-256, line count)'
  if (/\/format\/python-json\.[jt]s$/.test(url)) return PY_PARSE.test(fn) ? 'Python-JSON parse (final output)' : 'Python-JSON dump (serialisation)'
  if (/\/format\/[^/]+\.[jt]s$/.test(url)) return 'formatting (training data, format shapes)'
  if (/\/source\/(mounted\/(kiln-files|kiln-projects|file-batch|run-file-reader)|kiln\/(records|split-file|compact-run-ids))\.[jt]s$/.test(url)) return 'run files (open/read/close, decode, JSON.parse)'
  if (/\/source\/inline\.[jt]s$/.test(url)) return 'export orchestration (passes, batches, chunks)'
  if (/\/export\/[^/]+\.[jt]s$/.test(url)) return 'export orchestration (passes, batches, chunks)'
  if (/node_modules\/ajv/.test(url)) return 'schema check (ajv)'
  if (/node:internal\/fs\/|node:fs$/.test(url)) return 'run files (open/read/close, decode, JSON.parse)'
  if (/node:internal\/streams\/|node:stream|node:net$|node:_http_|stream_base_commons|node:internal\/http/.test(url)) return 'stream + socket (Readable.from, HTTP writes)'
  if (/node_modules\/(fastify|@fastify|avvio|light-my-request|find-my-way|secure-json-parse|fast-json-stringify)/.test(url)) return 'HTTP framework (Fastify, request body parsing)'
  if (/node_modules\/(pino|thread-stream|sonic-boom)/.test(url)) return 'logging'
  if (/node:internal\/process\/task_queues|node:internal\/async_hooks|node:internal\/timers/.test(url)) return 'async machinery (microtasks, ticks, timers)'
  if (/node:internal\/modules|node_modules\/tsx|node:internal\/main/.test(url)) return 'module loading / start-up'
  if (/\/http\/|\/src\/app\.|\/server\.[jt]s$/.test(url)) return 'HTTP framework (Fastify, request body parsing)'
  return undefined
}

function shortUrl (url: string): string {
  const at = url.lastIndexOf('/node_modules/')
  if (at !== -1) return url.slice(at + 14)
  const src = url.search(/\/(src|dist)\//)
  if (src !== -1) return url.slice(src + 1)
  return url === '' ? '(V8 built-in)' : url.replace(/^file:\/\//, '')
}

/**
 * Self time per function and category. When `window` is given (CLOCK_MONOTONIC microseconds, the
 * clock of both V8's profile timestamps and process.hrtime), only samples inside it count.
 */
export function summarizeProfile (profile: CpuProfile, window?: { readonly startUs: number, readonly endUs: number }): ProfileSummary {
  const byId = new Map<number, ProfileNode>()
  const parent = new Map<number, number>()
  for (const node of profile.nodes) {
    byId.set(node.id, node)
    for (const child of node.children ?? []) parent.set(child, node.id)
  }
  const categoryCache = new Map<number, string>()
  const categoryOf = (id: number): string => {
    const cached = categoryCache.get(id)
    if (cached !== undefined) return cached
    const node = byId.get(id)
    let category = node === undefined ? undefined : ownCategory(node.callFrame)
    if (category === undefined) {
      const up = parent.get(id)
      category = up === undefined ? 'other (node internals)' : categoryOf(up)
    }
    categoryCache.set(id, category)
    return category
  }

  // Sample i lasts from its timestamp to the next one.
  const stamps: number[] = []
  let t = profile.startTime
  for (const delta of profile.timeDeltas) {
    t += delta
    stamps.push(t)
  }
  const useWindow = window !== undefined && window.startUs >= profile.startTime && window.endUs <= profile.endTime + 1_000_000
  const selfUs = new Map<number, number>()
  let totalUs = 0
  for (let i = 0; i < profile.samples.length; i++) {
    const start = stamps[i] as number
    const end = stamps[i + 1] ?? profile.endTime
    if (useWindow && (start < window.startUs || start > window.endUs)) continue
    const duration = Math.max(0, end - start)
    const id = profile.samples[i] as number
    selfUs.set(id, (selfUs.get(id) ?? 0) + duration)
    totalUs += duration
  }

  const categories = new Map<string, number>()
  const functions = new Map<string, { name: string, where: string, category: string, us: number }>()
  for (const [id, us] of selfUs) {
    const node = byId.get(id)
    if (node === undefined) continue
    const category = categoryOf(id)
    categories.set(category, (categories.get(category) ?? 0) + us)
    const { functionName, url, lineNumber } = node.callFrame
    const name = functionName === '' ? '(anonymous)' : functionName
    const where = url === '' ? '(V8 built-in)' : `${shortUrl(url)}:${lineNumber + 1}`
    const key = `${name}@${where}@${category}`
    const entry = functions.get(key) ?? { name, where, category, us: 0 }
    entry.us += us
    functions.set(key, entry)
  }
  return {
    totalUs,
    windowed: useWindow,
    categories: [...categories].map(([name, us]) => ({ name, us })).sort((a, b) => b.us - a.us),
    functions: [...functions.values()].sort((a, b) => b.us - a.us)
  }
}
