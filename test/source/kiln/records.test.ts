import { describe, expect, it } from 'vitest'
import { CompactRunIds, decodeProject, decodeSplitFile, decodeTask, decodeTaskRunFile, invalidRunFile } from '../../../src/source/kiln/index.js'

const RUN = { id: 'r1', input: 'in', output: { output: 'out' } }

describe('the Kiln record decoding', () => {
  it('decodes project and task files, or gives the first schema error', () => {
    expect(decodeProject({ id: 'p', name: 'P', extra: 1 })).toEqual({ record: { id: 'p', name: 'P', extra: 1 } })
    expect(decodeProject({ id: 'p' })).toEqual({ detail: "/ must have required property 'name'" })
    expect(decodeTask({ id: 't', name: 'T', output_json_schema: null })).toEqual({ record: { id: 't', name: 'T', output_json_schema: null } })
    expect(decodeTask({ id: 't', name: 7 })).toEqual({ detail: '/name must be string' })
  })

  it('decodes a split file from its bytes with compact id lists', () => {
    const decoded = decodeSplitFile(Buffer.from(JSON.stringify({ id: 's', name: 'S', split_contents: { train: ['a', 'b'] } })))
    if (!('record' in decoded)) throw new Error(decoded.detail)
    expect(decoded.record.split_contents.train).toBeInstanceOf(CompactRunIds)
    expect([...decoded.record.split_contents.train ?? []]).toEqual(['a', 'b'])
    expect(decodeSplitFile(Buffer.from('{}'))).toEqual({ detail: "/ must have required property 'id'" })
    expect(decodeSplitFile(Buffer.from('[1]'))).toEqual({ detail: '/ must be object' })
    expect(decodeSplitFile(Buffer.from('7'))).toEqual({ detail: 'not a JSON object' })
    expect(decodeSplitFile(Buffer.from('{'))).toMatchObject({ detail: expect.stringMatching(/^not valid JSON: /) as unknown })
  })

  it('turns a task run file into its lookup, naming the run', () => {
    expect(decodeTaskRunFile('r1', JSON.stringify(RUN))).toEqual({ id: 'r1', status: 'found', run: RUN })
    expect(decodeTaskRunFile('r1', '{')).toMatchObject({ status: 'invalid', message: expect.stringMatching(/^Task run r1: task_run\.kiln is not valid JSON \(/) as unknown })
    expect(decodeTaskRunFile('r1', JSON.stringify({ ...RUN, input: 5 }))).toEqual({
      id: 'r1', status: 'invalid', message: 'Task run r1: task_run.kiln is not a valid Kiln task run (/input must be string)'
    })
    expect(decodeTaskRunFile('r2', JSON.stringify(RUN))).toEqual({ id: 'r2', status: 'invalid', message: 'Task run r2: its folder holds run r1' })
    const deep = JSON.stringify({ ...RUN, trace: [{ role: 'user', content: '['.repeat(2000) + ']'.repeat(2000) }] }).replace(/"\[+\]+"/, '['.repeat(2000) + ']'.repeat(2000))
    expect(decodeTaskRunFile('r1', deep)).toMatchObject({ status: 'invalid', message: expect.stringMatching(/^Task run r1: .*task_run\.kiln/) as unknown })
    expect(invalidRunFile('r1', 'cannot be read (EACCES)')).toEqual({ id: 'r1', status: 'invalid', message: 'Task run r1: task_run.kiln cannot be read (EACCES)' })
  })
})
