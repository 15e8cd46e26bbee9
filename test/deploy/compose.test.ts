import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { ConfigSchema } from '../../src/config.js'
import { COMPOSE_TEXT, DOCKERFILE_TEXT, envNames, finalStage, type DockerInstruction } from './dockerfile.js'
import { SERVER_ENV, SERVER_ENV_ASSIGNMENTS, SERVER_NODE_FLAGS } from '../../src/runtime-flags.js'

const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }

/*
 * The deployment files against the code, without a Docker engine: every variable they set is one
 * the service reads, the projects are mounted read-only where the service looks, and the image
 * runs as a non-root user with production dependencies and a health check. Each check is a
 * function, run on the real files and on broken copies (so a check that cannot fail is caught).
 */

const CONFIG_KEYS = Object.keys(ConfigSchema.properties)

interface ComposeVolume { type?: string, source?: string, target?: string, read_only?: boolean }
interface ComposeService {
  image?: string
  build?: unknown
  command?: string | string[]
  profiles?: string[]
  healthcheck?: { test?: string | string[], disable?: boolean }
  depends_on?: string[] | Record<string, { condition?: string }>
  ports?: Array<string | { host_ip?: string, published?: string | number, target?: number }>
  environment?: Record<string, string | number | boolean | null> | string[]
  volumes?: Array<string | ComposeVolume>
}

interface ComposeFile { services?: Record<string, ComposeService>, volumes?: Record<string, unknown> }

function composeService (text: string, name = 'kiln-export'): ComposeService {
  const compose = parseYaml(text) as ComposeFile
  const service = compose.services?.[name]
  if (service === undefined) throw new Error(`docker-compose.yml has no ${name} service`)
  return service
}

/** The service's environment as a map, from either compose syntax (map or `KEY=value` list). */
function environment (service: ComposeService): Record<string, string | undefined> {
  const env = service.environment ?? {}
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((entry) => {
      const at = entry.indexOf('=')
      return at === -1 ? [entry, undefined] : [entry.slice(0, at), entry.slice(at + 1)]
    }))
  }
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value === null ? undefined : String(value)]))
}

/** A volume in long form; the short form `source:target[:mode]` may hold `${VAR:-default}` with colons. */
function volume (entry: string | ComposeVolume): ComposeVolume {
  if (typeof entry !== 'string') return entry
  const match = /^(.*):(\/[^:]*)(?::([a-z,]+))?$/.exec(entry)
  if (match === null) return { source: entry }
  return { source: match[1], target: match[2], read_only: (match[3] ?? '').split(',').includes('ro') }
}

/** Variables compose sets that the service does not read. */
function unknownComposeVariables (text: string): string[] {
  return Object.keys(environment(composeService(text))).filter((name) => !CONFIG_KEYS.includes(name))
}

/** The mount at KILN_PROJECTS_DIR, or a reason it is wrong. */
function projectsMountProblem (text: string, name = 'kiln-export'): string | undefined {
  return serviceProjectsMountProblem(composeService(text, name))
}

function serviceProjectsMountProblem (service: ComposeService): string | undefined {
  const projectsDir = environment(service).KILN_PROJECTS_DIR
  if (projectsDir === undefined || !projectsDir.startsWith('/')) return 'KILN_PROJECTS_DIR is not set to an absolute path'
  const mounts = (service.volumes ?? []).map(volume).filter((v) => v.target === projectsDir)
  if (mounts.length !== 1) return `${mounts.length} volumes are mounted at ${projectsDir}`
  return mounts[0]?.read_only === true ? undefined : `${projectsDir} is mounted read-write`
}

/** Environment values that take a host variable as they are (`${NAME}` or `${NAME:-}`), by variable. */
function passedThrough (text: string): string[] {
  return Object.entries(environment(composeService(text)))
    .filter(([name, value]) => value === `\${${name}}` || value === `\${${name}:-}`)
    .map(([name]) => name)
}

/** Host addresses the service's ports are published on, with compose defaults substituted. */
function publishedHosts (text: string, env: Record<string, string> = {}): string[] {
  const substitute = (value: string): string =>
    value.replace(/\$\{(\w+)(?::-([^}]*))?\}/g, (_, name: string, fallback: string | undefined) => env[name] ?? fallback ?? '')
  return (composeService(text).ports ?? []).map((port) => {
    if (typeof port !== 'string') return port.host_ip ?? '0.0.0.0'
    const parts = substitute(port).split(':')
    // `container`, `host:container` (every interface) or `ip:host:container`.
    return parts.length === 3 ? parts[0] ?? '' : '0.0.0.0'
  })
}

/** The services of the `jobs` profile around the queue: the API that queues, the worker, Redis. */
const JOB_SERVICES = ['kiln-export-jobs', 'worker'] as const

/**
 * What is wrong with the `jobs` profile (empty when nothing): the default `up` keeps the API alone,
 * without Redis; the queueing API and the worker run the API's image (the worker subcommand, with
 * the server's Node flags), reach the redis service, mount the projects read-only and share one
 * named EXPORTS_DIR volume with the default API; Redis answers `redis-cli ping`.
 */
function jobsProfileProblems (compose: ComposeFile): string[] {
  const problems: string[] = []
  const services = compose.services ?? {}
  const api = services['kiln-export']
  if (api === undefined) return ['no kiln-export service']
  if ((api.profiles ?? []).length > 0) problems.push('kiln-export has a profile: the default `docker compose up` would not start it')
  if (environment(api).REDIS_URL !== undefined) problems.push('kiln-export has REDIS_URL: the default `docker compose up` has no Redis')
  for (const [name, service] of Object.entries(services)) {
    if (name !== 'kiln-export' && !(service.profiles ?? []).includes('jobs')) problems.push(`${name} is not in the jobs profile`)
  }
  const redis = services.redis
  if (redis === undefined) return [...problems, 'no redis service']
  if (!/^redis:7-alpine$/.test(redis.image ?? '')) problems.push(`redis runs ${redis.image ?? 'no image'}`)
  const ping = [redis.healthcheck?.test ?? []].flat().join(' ')
  if (!/redis-cli ping/.test(ping)) problems.push('redis has no `redis-cli ping` health check')

  const exportsDir = environment(api).EXPORTS_DIR
  const exportsVolume = (service: ComposeService): string | undefined =>
    (service.volumes ?? []).map(volume).find((v) => v.target === exportsDir && v.read_only !== true)?.source
  const shared = exportsDir === undefined ? undefined : exportsVolume(api)
  if (shared === undefined || !/^[\w-]+$/.test(shared) || compose.volumes?.[shared] === undefined) problems.push('kiln-export has no named volume at EXPORTS_DIR')

  for (const name of JOB_SERVICES) {
    const service = services[name]
    if (service === undefined) {
      problems.push(`no ${name} service`)
      continue
    }
    const env = environment(service)
    if (service.image !== api.image || service.build !== undefined) problems.push(`${name} does not run the API's image ${api.image ?? ''}`)
    let redisHost: string | undefined
    try {
      redisHost = new URL(env.REDIS_URL ?? '').hostname
    } catch {}
    if (redisHost !== 'redis') problems.push(`${name}'s REDIS_URL (${env.REDIS_URL ?? 'unset'}) is not the redis service`)
    const dependsOn = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {})
    if (!dependsOn.includes('redis')) problems.push(`${name} does not depend on redis`)
    const mount = serviceProjectsMountProblem(service)
    if (mount !== undefined) problems.push(`${name}: ${mount}`)
    if (env.EXPORTS_DIR !== exportsDir || exportsVolume(service) !== shared) problems.push(`${name} does not share the EXPORTS_DIR volume ${shared ?? ''}`)
    const unknown = Object.keys(env).filter((key) => !CONFIG_KEYS.includes(key))
    if (unknown.length > 0) problems.push(`${name} sets unknown variables: ${unknown.join(', ')}`)
  }
  const command = services.worker?.command
  if (services.worker !== undefined && JSON.stringify(command) !== JSON.stringify(['node', ...SERVER_NODE_FLAGS, 'dist/cli/main.js', 'worker'])) {
    problems.push(`the worker runs ${JSON.stringify(command)}, not the worker subcommand`)
  }
  return problems
}

const ofKeyword = (stage: readonly DockerInstruction[], keyword: string): DockerInstruction[] => stage.filter((i) => i.keyword === keyword)

/** ENV names of the runtime stage that are neither configuration variables nor NODE_ENV. */
function unknownDockerfileVariables (text: string): string[] {
  return ofKeyword(finalStage(text), 'ENV').flatMap(envNames).filter((name) => name !== 'NODE_ENV' && !(name in SERVER_ENV) && !CONFIG_KEYS.includes(name))
}

/** The user the image runs as (the runtime stage's last USER), or root. */
function runtimeUser (text: string): string {
  const users = ofKeyword(finalStage(text), 'USER')
  return (users[users.length - 1]?.args[0] ?? 'root').split(':')[0] ?? 'root'
}

function healthcheckHitsHealth (text: string): boolean {
  const checks = ofKeyword(finalStage(text), 'HEALTHCHECK')
  return checks.length === 1 && checks[0]?.args[0] === 'CMD' && /\/health\b/.test(checks[0].text)
}

function installsProductionOnly (text: string): boolean {
  return ofKeyword(finalStage(text), 'RUN').some((i) => /\bnpm ci\b[^&;|]*--omit=dev\b/.test(i.args.join(' ')))
}

describe('docker-compose.yml', () => {
  it('sets only environment variables the service reads (keys of ConfigSchema)', () => {
    expect(Object.keys(environment(composeService(COMPOSE_TEXT))).length).toBeGreaterThan(0)
    expect(unknownComposeVariables(COMPOSE_TEXT)).toEqual([])
  })

  it('passes API_TOKEN through from the host, so `API_TOKEN=... docker compose up` requires it', () => {
    expect(passedThrough(COMPOSE_TEXT)).toContain('API_TOKEN')
    expect(passedThrough(COMPOSE_TEXT.replace(/^\s*API_TOKEN:.*$/m, ''))).not.toContain('API_TOKEN')
  })

  it('publishes the port on 127.0.0.1 unless KILN_EXPORT_BIND opts in, on host port KILN_EXPORT_PORT', () => {
    expect(publishedHosts(COMPOSE_TEXT)).toEqual(['127.0.0.1'])
    expect(publishedHosts(COMPOSE_TEXT, { KILN_EXPORT_BIND: '0.0.0.0' })).toEqual(['0.0.0.0'])
    expect(publishedHosts('services:\n  kiln-export:\n    ports:\n      - "3000:3000"\n')).toEqual(['0.0.0.0'])
    expect(COMPOSE_TEXT).toMatch(/\$\{KILN_EXPORT_PORT:-3000\}:3000/)
  })

  it('mounts the Kiln projects read-only at the path KILN_PROJECTS_DIR points to', () => {
    expect(projectsMountProblem(COMPOSE_TEXT)).toBeUndefined()
  })

  it('has a jobs profile: redis, a worker of the same image and a queueing API, sharing EXPORTS_DIR; plain `up` unchanged', () => {
    const compose = parseYaml(COMPOSE_TEXT) as ComposeFile
    expect(jobsProfileProblems(compose)).toEqual([])
    expect(Object.entries(compose.services ?? {}).filter(([, s]) => (s.profiles ?? []).length === 0).map(([name]) => name)).toEqual(['kiln-export'])
    expect(environment(composeService(COMPOSE_TEXT, 'worker')).REDIS_URL).toBe('redis://redis:6379')
    expect(environment(composeService(COMPOSE_TEXT, 'kiln-export-jobs')).EXPORT_WORKERS).toBe('false')
  })
})

describe('the Dockerfile\'s runtime stage', () => {
  it('runs the server with the service\'s Node flags (src/runtime-flags.ts), as `npm start` does', () => {
    const cmd = ofKeyword(finalStage(), 'CMD')
    // The exec (JSON) form: node itself is PID 1 and receives SIGTERM.
    expect(cmd.map((i) => JSON.parse(i.text.replace(/^CMD\s+/, '')) as unknown)).toEqual([['node', ...SERVER_NODE_FLAGS, 'dist/server.js']])
    // The compiled server, as in the image; `prestart` (re)builds it, so `npm ci && npm start` still does everything.
    expect(PACKAGE.scripts.start).toBe(`${SERVER_ENV_ASSIGNMENTS.join(' ')} node ${SERVER_NODE_FLAGS.join(' ')} dist/server.js`)
    expect(PACKAGE.scripts.prestart).toBe('npm run build')
  })

  it('sets the service\'s malloc settings (src/runtime-flags.ts) in ENV, as `npm start` does', () => {
    const pairs = ofKeyword(finalStage(), 'ENV').flatMap((i) => i.args.filter((a) => a.includes('=')))
    for (const assignment of SERVER_ENV_ASSIGNMENTS) expect(pairs).toContain(assignment)
  })

  it('sets only configuration variables in ENV, plus NODE_ENV and the malloc settings', () => {
    expect(ofKeyword(finalStage(), 'ENV').flatMap(envNames)).toContain('NODE_ENV')
    expect(unknownDockerfileVariables(DOCKERFILE_TEXT)).toEqual([])
  })

  it('sets KILN_PROJECTS_DIR to the folder docker-compose.yml mounts', () => {
    const projectsDir = environment(composeService(COMPOSE_TEXT)).KILN_PROJECTS_DIR ?? ''
    expect(ofKeyword(finalStage(), 'ENV').flatMap((i) => i.args)).toContain(`KILN_PROJECTS_DIR=${projectsDir}`)
  })

  it('runs as a non-root user', () => {
    expect(runtimeUser(DOCKERFILE_TEXT)).not.toMatch(/^(root|0)$/)
  })

  it('has a HEALTHCHECK that requests /health', () => {
    expect(healthcheckHitsHealth(DOCKERFILE_TEXT)).toBe(true)
  })

  it('installs production dependencies only (npm ci --omit=dev)', () => {
    expect(installsProductionOnly(DOCKERFILE_TEXT)).toBe(true)
  })
})

describe('the deployment checks', () => {
  it('catch an unknown variable, a read-write mount and a mount elsewhere in docker-compose.yml', () => {
    expect(unknownComposeVariables(COMPOSE_TEXT.replace('HOST: 0.0.0.0', 'HOSTNAME: 0.0.0.0'))).toEqual(['HOSTNAME'])
    expect(projectsMountProblem(COMPOSE_TEXT.replace(':/data:ro', ':/data'))).toBe('/data is mounted read-write')
    expect(projectsMountProblem(COMPOSE_TEXT.replace(':/data:ro', ':/projects:ro'))).toBe('0 volumes are mounted at /data')
    // The list syntax of compose is read too.
    expect(unknownComposeVariables('services:\n  kiln-export:\n    environment:\n      - PORT=3000\n      - DEBUG=1\n')).toEqual(['DEBUG'])
  })

  it('catch a broken jobs profile in docker-compose.yml', () => {
    const broken = (change: (compose: Required<ComposeFile> & { services: Record<string, ComposeService> }) => void): string[] => {
      const compose = parseYaml(COMPOSE_TEXT) as Required<ComposeFile> & { services: Record<string, ComposeService> }
      change(compose)
      return jobsProfileProblems(compose)
    }
    const worker = (c: { services: Record<string, ComposeService> }): ComposeService => c.services.worker ?? {}
    expect(broken((c) => { worker(c).image = 'other:latest' })).toEqual(['worker does not run the API\'s image kiln-export:latest'])
    expect(broken((c) => { worker(c).command = ['node', 'dist/server.js'] })).toEqual(['the worker runs ["node","dist/server.js"], not the worker subcommand'])
    expect(broken((c) => { worker(c).environment = { ...environment(worker(c)), REDIS_URL: 'redis://localhost:6379' } })).toEqual(['worker\'s REDIS_URL (redis://localhost:6379) is not the redis service'])
    expect(broken((c) => { worker(c).volumes = (worker(c).volumes ?? []).map((v) => typeof v === 'string' ? v.replace(':/data:ro', ':/data') : v) })).toEqual(['worker: /data is mounted read-write'])
    expect(broken((c) => { worker(c).volumes = (worker(c).volumes ?? []).map((v) => typeof v === 'string' ? v.replace('exports:', 'results:') : v) })).toEqual(['worker does not share the EXPORTS_DIR volume exports'])
    expect(broken((c) => { delete worker(c).profiles })).toEqual(['worker is not in the jobs profile'])
    expect(broken((c) => { delete c.services.redis?.healthcheck })).toEqual(['redis has no `redis-cli ping` health check'])
    expect(broken((c) => { c.services['kiln-export'] = { ...c.services['kiln-export'], profiles: ['jobs'] } })).toContain('kiln-export has a profile: the default `docker compose up` would not start it')
  })

  it('catch an unknown ENV, a root user, a missing health check and dev dependencies in the Dockerfile', () => {
    expect(unknownDockerfileVariables(DOCKERFILE_TEXT.replace('LOG_FORMAT=json', 'LOG_STYLE=json'))).toEqual(['LOG_STYLE'])
    expect(runtimeUser(DOCKERFILE_TEXT.replace(/^USER node$/m, 'USER root'))).toBe('root')
    expect(runtimeUser(DOCKERFILE_TEXT.replace(/^USER node$/m, ''))).toBe('root')
    expect(healthcheckHitsHealth(DOCKERFILE_TEXT.replace(/\/health/g, '/'))).toBe(false)
    expect(installsProductionOnly(DOCKERFILE_TEXT.replace('--omit=dev', ''))).toBe(false)
  })
})
