import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../src/config.js'

describe('the Kiln file size limits', () => {
  it('default to 256 MiB and 16 MiB, and can be set', () => {
    expect(loadConfig({})).toMatchObject({ maxKilnFileBytes: 256 * 1024 * 1024, maxRunFileBytes: 16 * 1024 * 1024 })
    expect(loadConfig({ MAX_KILN_FILE_BYTES: '1048576', MAX_RUN_FILE_BYTES: '65536' })).toMatchObject({ maxKilnFileBytes: 1048576, maxRunFileBytes: 65536 })
  })

  it('cannot exceed the longest string V8 can hold, which a file is decoded into', () => {
    expect(() => loadConfig({ MAX_KILN_FILE_BYTES: String(512 * 1024 * 1024) })).toThrow(ConfigError)
    expect(() => loadConfig({ MAX_RUN_FILE_BYTES: '-1' })).toThrow(/MAX_RUN_FILE_BYTES must be >= 1024/)
  })
})
