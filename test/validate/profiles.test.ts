import { describe, expect, it } from 'vitest'
import { DATASET_FORMATS, FORMATS, PROVIDER_PROFILES } from '../../src/format/index.js'
import { formatsOfProfile, profileForFormat } from '../../src/validate/index.js'
import { loadReferenceData } from '../../src/validate/reference-files.js'

describe('a format\'s default profile', () => {
  it('comes from its registry entry, and GET /validation/profiles lists each profile\'s formats as before', () => {
    // The lists data/provider-profiles.json held before the registry named each format's profile, plus the preference formats.
    expect(Object.fromEntries(PROVIDER_PROFILES.map((name) => [name, formatsOfProfile(name)]))).toEqual({
      openai: ['openai_chat_jsonl', 'openai_chat_json_schema_jsonl', 'openai_chat_toolcall_jsonl', 'openai_preference_jsonl'],
      vertex_gemini: ['vertex_gemini_1_5', 'vertex_gemini_preference'],
      huggingface: ['huggingface_chat_template_jsonl', 'huggingface_chat_template_toolcall_jsonl', 'huggingface_preference_jsonl']
    })
  })

  it('is found for every format and for Kiln\'s later names', async () => {
    const { profiles } = await loadReferenceData()
    for (const format of DATASET_FORMATS) expect(profileForFormat(profiles, format)).toBe(FORMATS[format].defaultProfile)
    expect(profileForFormat(profiles, 'vertex_gemini')).toBe('vertex_gemini')
    expect(() => profileForFormat(profiles, 'not_a_format')).toThrow(TypeError)
  })
})
