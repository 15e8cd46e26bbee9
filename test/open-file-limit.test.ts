import { describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config.js'
import { automaticMaxConnections, openFileLimit } from '../src/open-file-limit.js'

describe('MAX_CONNECTIONS', () => {
  it('defaults to three quarters of the open-file limit, at most 1024', () => {
    expect(automaticMaxConnections(256)).toBe(192)
    expect(automaticMaxConnections(1_048_576)).toBe(1024)
    expect(automaticMaxConnections(undefined)).toBe(1024)
    expect(openFileLimit()).toBeGreaterThan(0)
    expect(loadConfig({}).maxConnections).toBe(automaticMaxConnections())
    expect(loadConfig({ MAX_CONNECTIONS: '50' }).maxConnections).toBe(50)
  })
})
