import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { type ResultManifest, type ResultStore, type ResultWriter, type StoredResult } from './types.js'

/*
 * Results in a local folder (EXPORTS_DIR): `<job id>.jsonl` and `<job id>.manifest.json`. A writer
 * writes a hidden temp file, flushes it to disk and renames it to `<job id>.jsonl`, then does the
 * same for the manifest: the manifest is renamed last, so a result is visible exactly when its
 * manifest is there (get() answers from it), and the file under it is complete. A job redone
 * after a crash renames the same bytes over the same names. Several processes may share the
 * folder (a volume of one machine); nothing is cached.
 */

const MANIFEST = '.manifest.json'
const JSONL = '.jsonl'
const TEMP = /^\..*\.tmp$/

/** Job ids become file names: refuse anything but the plain ids the service makes. */
function checkedId (jobId: string): string {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(jobId)) throw new Error(`Not a job id: ${JSON.stringify(jobId.slice(0, 40))}`)
  return jobId
}

async function fsyncFolder (dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined)
  if (handle === undefined) return
  await handle.sync().catch(() => {})
  await handle.close()
}

/** Write `bytes` to `path` through a flushed temp file and a rename. */
async function writeSmallFileAtomically (dir: string, path: string, bytes: string): Promise<void> {
  const temp = join(dir, `.${randomBytes(6).toString('hex')}${MANIFEST}.tmp`)
  const handle = await open(temp, 'wx')
  try {
    await handle.writeFile(bytes)
    await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    await rename(temp, path)
  } catch (err) {
    await rm(temp, { force: true })
    throw err
  }
}

class LocalWriter implements ResultWriter {
  private done = false

  constructor (
    private readonly store: LocalResultStore,
    private readonly jobId: string,
    private readonly temp: string,
    private readonly handle: FileHandle
  ) {}

  /** write() resolves after the file took every byte of the chunk. */
  readonly releasesChunks = true

  async write (chunk: Buffer): Promise<void> {
    for (let offset = 0; offset < chunk.length;) {
      const { bytesWritten } = await this.handle.write(chunk, offset)
      offset += bytesWritten
    }
  }

  async commit (manifest: ResultManifest): Promise<void> {
    if (this.done) throw new Error('This result was already committed or aborted')
    this.done = true
    const { dir } = this.store
    try {
      await this.handle.sync()
      await this.handle.close()
      await rename(this.temp, this.store.filePath(this.jobId))
    } catch (err) {
      await this.handle.close().catch(() => {})
      await rm(this.temp, { force: true })
      throw err
    }
    // The manifest last: from here on the result is visible.
    await writeSmallFileAtomically(dir, this.store.manifestPath(this.jobId), `${JSON.stringify(manifest, null, 2)}\n`)
    await fsyncFolder(dir)
  }

  async abort (): Promise<void> {
    if (this.done) return
    this.done = true
    await this.handle.close().catch(() => {})
    await rm(this.temp, { force: true })
  }
}

/** The local folder result store (EXPORTS_DIR). */
export class LocalResultStore implements ResultStore {
  readonly kind = 'local' as const

  constructor (readonly dir: string) {}

  filePath (jobId: string): string { return join(this.dir, `${checkedId(jobId)}${JSONL}`) }
  manifestPath (jobId: string): string { return join(this.dir, `${checkedId(jobId)}${MANIFEST}`) }

  async create (jobId: string): Promise<ResultWriter> {
    checkedId(jobId)
    await mkdir(this.dir, { recursive: true })
    const temp = join(this.dir, `.${jobId}.${process.pid}.${randomBytes(4).toString('hex')}${JSONL}.tmp`)
    return new LocalWriter(this, jobId, temp, await open(temp, 'wx'))
  }

  async get (jobId: string): Promise<StoredResult | undefined> {
    let text: string
    try {
      text = await readFile(this.manifestPath(jobId), 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
    const manifest = JSON.parse(text) as ResultManifest
    // A manifest without its file (deleted by hand, a sweep half done) is no result.
    const file = this.filePath(jobId)
    if (!await stat(file).then((s) => s.isFile(), () => false)) return undefined
    return { manifest, location: pathToFileURL(file).href }
  }

  async read (jobId: string, range?: { start: number, end: number }): Promise<NodeJS.ReadableStream> {
    const path = this.filePath(jobId)
    // Open first, so a missing file fails here rather than on the stream.
    const handle = await open(path, 'r')
    return handle.createReadStream(range === undefined ? {} : { start: range.start, end: range.end })
  }

  async delete (jobId: string): Promise<void> {
    // The manifest first: the result stops being visible before its file goes.
    await rm(this.manifestPath(jobId), { force: true })
    await rm(this.filePath(jobId), { force: true })
  }

  async sweep (ttlMs: number, now: number = Date.now()): Promise<number> {
    let names: string[]
    try {
      names = await readdir(this.dir)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0
      throw err
    }
    let removed = 0
    for (const name of names) {
      if (name.endsWith(MANIFEST) && !name.startsWith('.')) {
        const jobId = name.slice(0, -MANIFEST.length)
        const created = await readFile(join(this.dir, name), 'utf8')
          .then((text) => Date.parse((JSON.parse(text) as ResultManifest).created_at), () => Number.NaN)
        if (Number.isNaN(created) || now - created > ttlMs) {
          await this.delete(jobId)
          removed++
        }
      } else if (TEMP.test(name) || name.endsWith(JSONL)) {
        // Temp files of crashed writers, and files whose manifest is gone: by age.
        const path = join(this.dir, name)
        const info = await stat(path).catch(() => undefined)
        const kept = name.endsWith(JSONL) && !name.startsWith('.') && names.includes(`${name.slice(0, -JSONL.length)}${MANIFEST}`)
        if (info !== undefined && !kept && now - info.mtimeMs > ttlMs) await rm(path, { force: true })
      }
    }
    return removed
  }
}
