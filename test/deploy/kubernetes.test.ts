import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml, parseAllDocuments } from 'yaml'
import { runCli } from '../../src/cli/run.js'
import { ConfigSchema, loadConfig } from '../../src/config.js'
import { SERVER_NODE_FLAGS } from '../../src/runtime-flags.js'
import { listen } from '../helpers/server.js'
import { DOCKERFILE_TEXT, finalStage } from './dockerfile.js'

/*
 * deploy/kubernetes/ against the code and the Dockerfile, without a cluster: every document
 * parses; the pods run non-root (the image's user) on a read-only root with no privileges; the
 * API's probes hit the app's /ready and /health on its PORT; shutdown timings add up with
 * SHUTDOWN_GRACE_MS; the projects are mounted read-only where KILN_PROJECTS_DIR points; API and
 * workers run one image, the workers its worker subcommand; both reach Redis through its Service.
 * Each check is a function, also run on broken copies (so a check that cannot fail is caught).
 */

const DIR = new URL('../../deploy/kubernetes/', import.meta.url)
const FILES = readdirSync(DIR).filter((name) => name.endsWith('.yaml')).sort()

interface EnvVar { name: string, value?: string, valueFrom?: unknown }
interface Probe { httpGet?: { path: string, port: number | string }, exec?: { command: string[] }, periodSeconds?: number }
interface Container {
  name: string
  image: string
  command?: string[]
  args?: string[]
  env?: EnvVar[]
  envFrom?: Array<{ configMapRef?: { name: string }, secretRef?: { name: string } }>
  ports?: Array<{ name?: string, containerPort: number }>
  readinessProbe?: Probe
  livenessProbe?: Probe
  lifecycle?: { preStop?: { exec?: { command: string[] }, sleep?: { seconds: number } } }
  securityContext?: { readOnlyRootFilesystem?: boolean, allowPrivilegeEscalation?: boolean, runAsNonRoot?: boolean, runAsUser?: number, capabilities?: { drop?: string[] } }
  volumeMounts?: Array<{ name: string, mountPath: string, readOnly?: boolean }>
}
interface Volume { name: string, emptyDir?: object, persistentVolumeClaim?: { claimName: string, readOnly?: boolean }, hostPath?: { path: string } }
interface PodSpec {
  terminationGracePeriodSeconds?: number
  securityContext?: { runAsNonRoot?: boolean, runAsUser?: number }
  containers: Container[]
  volumes?: Volume[]
}
interface Resource {
  kind: string
  metadata: { name: string }
  data?: Record<string, string>
  spec?: {
    selector?: Record<string, string> & { matchLabels?: Record<string, string> }
    ports?: Array<{ name?: string, port: number, targetPort?: number | string }>
    template?: { metadata: { labels: Record<string, string> }, spec: PodSpec }
  }
}

/** Every document of every manifest file; throws naming the file on a YAML error. */
function loadManifests (files: ReadonlyArray<readonly [string, string]>): Resource[] {
  return files.flatMap(([name, text]) => parseAllDocuments(text).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${name}: ${doc.errors.map((e) => e.message).join('; ')}`)
    return doc.toJS() as Resource
  })).filter((resource) => resource !== null)
}

const TEXTS = FILES.filter((name) => name !== 'kustomization.yaml').map((name) => [name, readFileSync(new URL(name, DIR), 'utf8')] as const)
const MANIFESTS = loadManifests(TEXTS)
const KUSTOMIZATION = parseYaml(readFileSync(new URL('kustomization.yaml', DIR), 'utf8')) as { resources: string[], images?: Array<{ name: string }> }

/** The manifests with one file's text edited (for the checks' own tests). */
function edited (file: string, edit: (text: string) => string): Resource[] {
  const texts = TEXTS.map(([name, text]) => [name, name === file ? edit(text) : text] as const)
  if (texts.every(([name, text], i) => name !== file || text === TEXTS[i]?.[1])) throw new Error(`the edit changed nothing in ${file}`)
  return loadManifests(texts)
}

function named (manifests: readonly Resource[], kind: string, name: string): Resource {
  const found = manifests.find((r) => r.kind === kind && r.metadata.name === name)
  if (found === undefined) throw new Error(`no ${kind} ${name}`)
  return found
}

function pod (manifests: readonly Resource[], deployment: string): PodSpec {
  const spec = named(manifests, 'Deployment', deployment).spec?.template?.spec
  if (spec === undefined) throw new Error(`Deployment ${deployment} has no pod template`)
  return spec
}

function container (manifests: readonly Resource[], deployment: string): Container {
  const found = pod(manifests, deployment).containers[0]
  if (found === undefined) throw new Error(`Deployment ${deployment} has no container`)
  return found
}

/** A container's environment as the pod sees it: ConfigMaps of envFrom, then env (Secrets' values are unknown here). */
function environment (manifests: readonly Resource[], c: Container): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {}
  for (const source of c.envFrom ?? []) {
    if (source.configMapRef !== undefined) Object.assign(env, named(manifests, 'ConfigMap', source.configMapRef.name).data)
  }
  for (const variable of c.env ?? []) env[variable.name] = variable.value
  return env
}

/** The Dockerfile's runtime ENV, as name → value. */
const IMAGE_ENV: Record<string, string> = Object.fromEntries(finalStage().filter((i) => i.keyword === 'ENV').flatMap((i) => i.args.map((arg) => arg.split('=') as [string, string])))

/** The uid of the Dockerfile's runtime USER: `node` is 1000 in the official node images. */
function imageUid (text: string = DOCKERFILE_TEXT): number | undefined {
  const users = finalStage(text).filter((i) => i.keyword === 'USER')
  const user = (users[users.length - 1]?.args[0] ?? 'root').split(':')[0] ?? 'root'
  return user === 'node' ? 1000 : /^\d+$/.test(user) ? Number(user) : undefined
}

/** The number a probe's or Service's port means in a container (a name resolves through its ports). */
function portNumber (c: Container, port: number | string | undefined): number | undefined {
  return typeof port === 'number' ? port : c.ports?.find((p) => p.name === port)?.containerPort
}

const APP_DEPLOYMENTS = ['kiln-export-api', 'kiln-export-worker'] as const
const DEPLOYMENTS = (manifests: readonly Resource[]): string[] => manifests.filter((r) => r.kind === 'Deployment').map((r) => r.metadata.name)

/** Security settings missing from any container of any Deployment, as `deployment: problem`. */
function securityProblems (manifests: readonly Resource[]): string[] {
  return DEPLOYMENTS(manifests).flatMap((name) => {
    const spec = pod(manifests, name)
    return spec.containers.flatMap((c) => {
      const context = { ...spec.securityContext, ...c.securityContext }
      const problems: string[] = []
      if (context.runAsNonRoot !== true) problems.push('runAsNonRoot is not true')
      if (context.runAsUser === undefined || context.runAsUser === 0) problems.push('runAsUser is unset or 0')
      if (c.securityContext?.readOnlyRootFilesystem !== true) problems.push('the root file system is writable')
      if (c.securityContext?.allowPrivilegeEscalation !== false) problems.push('privilege escalation is allowed')
      if (!(c.securityContext?.capabilities?.drop ?? []).includes('ALL')) problems.push('capabilities are not all dropped')
      return problems.map((problem) => `${name}: ${problem}`)
    })
  })
}

/** The projects mount of a Deployment, or why it is wrong. */
function projectsMountProblem (manifests: readonly Resource[], deployment: string): string | undefined {
  const c = container(manifests, deployment)
  const dir = environment(manifests, c).KILN_PROJECTS_DIR ?? IMAGE_ENV.KILN_PROJECTS_DIR
  const mounts = (c.volumeMounts ?? []).filter((m) => m.mountPath === dir)
  if (mounts.length !== 1 || mounts[0] === undefined) return `${mounts.length} mounts at ${dir}`
  if (mounts[0].readOnly !== true) return `${dir} is mounted read-write`
  const volume = (pod(manifests, deployment).volumes ?? []).find((v) => v.name === mounts[0]?.name)
  if (volume?.persistentVolumeClaim !== undefined && volume.persistentVolumeClaim.readOnly !== true) return `the claim ${volume.persistentVolumeClaim.claimName} is not readOnly`
  if (volume?.emptyDir !== undefined) return `${dir} is an emptyDir`
  return undefined
}

/** The API's probes, as `kind path port`. */
function apiProbes (manifests: readonly Resource[]): string[] {
  const c = container(manifests, 'kiln-export-api')
  return (['readinessProbe', 'livenessProbe'] as const).map((kind) => {
    const probe = c[kind]?.httpGet
    return `${kind} ${probe?.path ?? '-'} ${portNumber(c, probe?.port) ?? '-'}`
  })
}

/** Seconds a preStop hook waits (`sleep N` or the sleep action); 0 without one. */
function preStopSeconds (c: Container): number {
  const hook = c.lifecycle?.preStop
  if (hook?.sleep !== undefined) return hook.sleep.seconds
  const command = hook?.exec?.command ?? []
  return command[0] === 'sleep' ? Number(command[1]) : 0
}

const DEFAULT_SHUTDOWN_GRACE_MS = loadConfig({}).shutdownGraceMs

/** Why a Deployment's shutdown timings do not add up, or undefined. */
function shutdownProblem (manifests: readonly Resource[], deployment: string): string | undefined {
  const spec = pod(manifests, deployment)
  const c = container(manifests, deployment)
  const graceMs = Number(environment(manifests, c).SHUTDOWN_GRACE_MS ?? DEFAULT_SHUTDOWN_GRACE_MS)
  const needed = preStopSeconds(c) + graceMs / 1000
  const period = spec.terminationGracePeriodSeconds ?? 30
  return period > needed ? undefined : `terminationGracePeriodSeconds ${period} is not above preStop + SHUTDOWN_GRACE_MS (${needed} s)`
}

/** Where REDIS_URL points in a Deployment, checked against the Redis Service; undefined when it reaches it. */
function redisProblem (manifests: readonly Resource[], deployment: string): string | undefined {
  const url = environment(manifests, container(manifests, deployment)).REDIS_URL
  if (url === undefined) return 'REDIS_URL is not set'
  const { protocol, hostname, port } = new URL(url)
  if (protocol !== 'redis:' && protocol !== 'rediss:') return `REDIS_URL is not a redis: URL (${url})`
  const service = manifests.find((r) => r.kind === 'Service' && r.metadata.name === hostname)
  if (service === undefined) return `no Service named ${hostname}`
  const servicePort = service.spec?.ports?.find((p) => p.port === Number(port === '' ? 6379 : port))
  if (servicePort === undefined) return `Service ${hostname} has no port ${port}`
  const selector = service.spec?.selector ?? {}
  const target = manifests.find((r) => r.kind === 'Deployment' &&
    Object.entries(selector).every(([key, value]) => r.spec?.template?.metadata.labels[key] === value))
  if (target === undefined) return `Service ${hostname} selects no Deployment`
  const redis = target.spec?.template?.spec.containers[0]
  if (redis === undefined || !/^redis:/.test(redis.image)) return `Service ${hostname} selects ${target.metadata.name}, not a redis container`
  return portNumber(redis, servicePort.targetPort ?? servicePort.port) === 6379 ? undefined : `Service ${hostname} does not reach Redis's port 6379`
}

const CONFIG_KEYS = Object.keys(ConfigSchema.properties)
/**
 * The job variables of issue 16 that part A (src/jobs) adds to ConfigSchema, and AWS_REGION, which
 * the S3 store takes for its client. Once ConfigSchema holds them, they need no mention here.
 */
const JOB_VARIABLES: readonly string[] = []

function unknownVariables (manifests: readonly Resource[]): string[] {
  return APP_DEPLOYMENTS.flatMap((name) => Object.keys(environment(manifests, container(manifests, name))))
    .filter((name, i, all) => all.indexOf(name) === i && !CONFIG_KEYS.includes(name) && !JOB_VARIABLES.includes(name))
}

/** Whether the CLI has a `worker` command (issue 16 part A; until it is merged, the test that runs it is skipped). */
const CLI_HAS_WORKER = /^\s*'?worker'?:/m.test(readFileSync(new URL('../../src/cli/run.ts', import.meta.url), 'utf8'))

describe('deploy/kubernetes', () => {
  it('parses, every file listed in the kustomization, with the API, worker and Redis Deployments and Services', () => {
    expect(KUSTOMIZATION.resources.sort()).toEqual(TEXTS.map(([name]) => name).sort())
    expect(DEPLOYMENTS(MANIFESTS).sort()).toEqual(['kiln-export-api', 'kiln-export-redis', 'kiln-export-worker'])
    expect(MANIFESTS.filter((r) => r.kind === 'Service').map((r) => r.metadata.name).sort()).toEqual(['kiln-export-api', 'kiln-export-redis'])
  })

  it('runs every container non-root on a read-only root file system, without privilege escalation or capabilities', () => {
    expect(securityProblems(MANIFESTS)).toEqual([])
  })

  it('runs the app as the Dockerfile\'s user, with a writable emptyDir at /tmp only', () => {
    expect(imageUid()).toBe(1000)
    for (const name of APP_DEPLOYMENTS) {
      expect(pod(MANIFESTS, name).securityContext?.runAsUser).toBe(imageUid())
      const tmp = container(MANIFESTS, name).volumeMounts?.find((m) => m.mountPath === '/tmp')
      expect(pod(MANIFESTS, name).volumes?.find((v) => v.name === tmp?.name)?.emptyDir).toEqual({})
    }
  })

  it('runs the API and the workers from one image, the one the kustomization sets', () => {
    const images = APP_DEPLOYMENTS.map((name) => container(MANIFESTS, name).image)
    expect(new Set(images).size).toBe(1)
    expect(KUSTOMIZATION.images?.map((i) => i.name)).toContain(images[0])
  })

  it('runs the image\'s CMD (the server) in the API, and `kiln-export worker` (compiled, with the server\'s Node flags) in the workers', () => {
    const api = container(MANIFESTS, 'kiln-export-api')
    expect(api.command).toBeUndefined()
    expect(api.args).toBeUndefined()
    const worker = container(MANIFESTS, 'kiln-export-worker')
    expect([...worker.command ?? [], ...worker.args ?? []]).toEqual(['node', ...SERVER_NODE_FLAGS, 'dist/cli/main.js', 'worker'])
    // dist/cli/main.js is what bin/kiln-export.js runs in the image (no sources there), built from src/cli/main.ts.
    expect(existsSync(new URL('../../src/cli/main.ts', import.meta.url))).toBe(true)
    expect(readFileSync(new URL('../../bin/kiln-export.js', import.meta.url), 'utf8')).toContain('../dist/cli/main.js')
    expect(finalStage().some((i) => i.keyword === 'COPY' && i.args.includes('./dist'))).toBe(true)
  })

  it.runIf(CLI_HAS_WORKER)('names a command the CLI has: `kiln-export help worker` answers 0', async () => {
    const sink = new PassThrough().resume()
    expect(await runCli(['help', 'worker'], { stdout: sink, stderr: sink, env: {} })).toBe(0)
  })

  it('probes the API\'s /ready (readiness) and /health (liveness) on the PORT it listens on', () => {
    const port = Number(environment(MANIFESTS, container(MANIFESTS, 'kiln-export-api')).PORT ?? IMAGE_ENV.PORT)
    expect(port).toBe(3000)
    expect(apiProbes(MANIFESTS)).toEqual([`readinessProbe /ready ${port}`, `livenessProbe /health ${port}`])
    // The API Service sends traffic there too.
    const service = named(MANIFESTS, 'Service', 'kiln-export-api').spec?.ports?.[0]
    expect(portNumber(container(MANIFESTS, 'kiln-export-api'), service?.targetPort)).toBe(port)
  })

  it('probes paths the app answers 200 without a token', async () => {
    const server = await listen({ apiToken: 'a-token-of-sixteen-chars' })
    try {
      for (const path of ['/ready', '/health']) {
        const answer = await server.client.request({ method: 'GET', path })
        await answer.body.dump()
        expect(answer.statusCode).toBe(200)
      }
    } finally {
      await server.close()
    }
  })

  it('gives the workers a liveness probe that checks PID 1 (they listen on no port)', () => {
    const worker = container(MANIFESTS, 'kiln-export-worker')
    expect(worker.ports).toBeUndefined()
    expect(worker.livenessProbe?.exec?.command.at(-1)).toBe('/proc/1/stat')
    // What the probe matches: this process's own stat line (running or sleeping).
    const [, , pattern] = worker.livenessProbe?.exec?.command ?? []
    const line = readFileSync('/proc/self/stat', 'utf8').replace(/^\d+/, '1')
    expect(new RegExp(pattern ?? '$^').test(line)).toBe(true)
    expect(new RegExp(pattern ?? '$^').test('1 (node) Z 0 1 1')).toBe(false)
  })

  it('waits in preStop, then gives SHUTDOWN_GRACE_MS and more before the kill', () => {
    expect(preStopSeconds(container(MANIFESTS, 'kiln-export-api'))).toBeGreaterThanOrEqual(5)
    for (const name of APP_DEPLOYMENTS) expect(shutdownProblem(MANIFESTS, name)).toBeUndefined()
  })

  it('mounts the Kiln projects read-only at KILN_PROJECTS_DIR in the API and the workers', () => {
    for (const name of APP_DEPLOYMENTS) expect(projectsMountProblem(MANIFESTS, name)).toBeUndefined()
  })

  it('points REDIS_URL of both at the Redis Service, and turns the API\'s own workers off', () => {
    for (const name of APP_DEPLOYMENTS) expect(redisProblem(MANIFESTS, name)).toBeUndefined()
    expect(environment(MANIFESTS, container(MANIFESTS, 'kiln-export-api')).EXPORT_WORKERS).toBe('false')
    expect(environment(MANIFESTS, container(MANIFESTS, 'kiln-export-worker')).EXPORT_WORKERS).toBeUndefined()
  })

  it('sets only variables the service reads, to values its configuration accepts', () => {
    expect(unknownVariables(MANIFESTS)).toEqual([])
    for (const name of APP_DEPLOYMENTS) expect(() => loadConfig(environment(MANIFESTS, container(MANIFESTS, name)))).not.toThrow()
  })
})

describe('the Kubernetes checks', () => {
  it('catch a root user, a writable root, privilege escalation and kept capabilities', () => {
    expect(securityProblems(edited('worker.yaml', (t) => t.replace('runAsNonRoot: true', 'runAsNonRoot: false')))).toEqual(['kiln-export-worker: runAsNonRoot is not true'])
    expect(securityProblems(edited('api.yaml', (t) => t.replace('readOnlyRootFilesystem: true', 'readOnlyRootFilesystem: false')))).toEqual(['kiln-export-api: the root file system is writable'])
    expect(securityProblems(edited('redis.yaml', (t) => t.replace('allowPrivilegeEscalation: false', 'allowPrivilegeEscalation: true')))).toEqual(['kiln-export-redis: privilege escalation is allowed'])
    expect(securityProblems(edited('api.yaml', (t) => t.replace('drop: ["ALL"]', 'drop: ["NET_RAW"]')))).toEqual(['kiln-export-api: capabilities are not all dropped'])
    expect(imageUid(DOCKERFILE_TEXT.replace(/^USER node$/m, 'USER root'))).toBeUndefined()
  })

  it('catch a probe on another path or port, a short grace period, a writable projects mount and a wrong REDIS_URL', () => {
    expect(apiProbes(edited('api.yaml', (t) => t.replace('path: /ready', 'path: /')))[0]).toBe('readinessProbe / 3000')
    expect(apiProbes(edited('api.yaml', (t) => t.replace('port: http }\n            periodSeconds: 10', 'port: 8080 }\n            periodSeconds: 10')))[1]).toBe('livenessProbe /health 8080')
    expect(shutdownProblem(edited('api.yaml', (t) => t.replace('terminationGracePeriodSeconds: 45', 'terminationGracePeriodSeconds: 35')), 'kiln-export-api'))
      .toBe('terminationGracePeriodSeconds 35 is not above preStop + SHUTDOWN_GRACE_MS (40 s)')
    expect(shutdownProblem(edited('config.yaml', (t) => t.replace('"30000"', '"60000"')), 'kiln-export-worker')).toMatch(/not above/)
    expect(projectsMountProblem(edited('worker.yaml', (t) => t.replace(/mountPath: \/data\n(\s+)readOnly: true/, 'mountPath: /data')), 'kiln-export-worker')).toBe('/data is mounted read-write')
    expect(projectsMountProblem(edited('api.yaml', (t) => t.replace(/claimName: kiln-projects\n(\s+)readOnly: true/, 'claimName: kiln-projects')), 'kiln-export-api')).toBe('the claim kiln-projects is not readOnly')
    expect(redisProblem(edited('config.yaml', (t) => t.replace('redis://kiln-export-redis:6379', 'redis://redis:6379')), 'kiln-export-api')).toBe('no Service named redis')
    expect(redisProblem(edited('config.yaml', (t) => t.replace('redis://kiln-export-redis:6379', 'redis://kiln-export-redis:6380')), 'kiln-export-worker')).toBe('Service kiln-export-redis has no port 6380')
    expect(redisProblem(edited('redis.yaml', (t) => t.replace('targetPort: redis', 'targetPort: 6380')), 'kiln-export-api')).toBe('Service kiln-export-redis does not reach Redis\'s port 6379')
    expect(unknownVariables(edited('config.yaml', (t) => t.replace('LOG_FORMAT: json', 'LOG_STYLE: json')))).toEqual(['LOG_STYLE'])
  })
})
