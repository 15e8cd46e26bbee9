import { describe, expect, it } from 'vitest'
import { DATASET_FORMATS, FORMATS, PROVIDER_PROFILES } from '../../src/format/index.js'
import { availabilityWarnings, formatsOfProfile, profileForFormat, resolveProfile, type ProviderProfiles } from '../../src/validate/index.js'
import { loadReferenceData } from '../../src/validate/reference-files.js'

const OPENAI_FORMATS = ['openai_chat_jsonl', 'openai_chat_json_schema_jsonl', 'openai_chat_toolcall_jsonl']

describe('a format\'s default profile', () => {
  it('comes from its registry entry, and GET /validation/profiles lists the formats each profile reads', () => {
    expect(Object.fromEntries(PROVIDER_PROFILES.map((name) => [name, formatsOfProfile(name)]))).toEqual({
      openai: [...OPENAI_FORMATS, 'openai_preference_jsonl'],
      vertex_gemini: ['vertex_gemini_1_5', 'vertex_gemini_preference'],
      huggingface: ['huggingface_chat_template_jsonl', 'huggingface_chat_template_toolcall_jsonl', 'huggingface_preference_jsonl'],
      fireworks: [...OPENAI_FORMATS, 'openai_preference_jsonl'],
      together: [...OPENAI_FORMATS, 'openai_preference_jsonl'],
      bedrock_nova: ['bedrock_conversation_jsonl']
    })
  })

  it('is found for every format and for Kiln\'s later names', async () => {
    const { profiles } = await loadReferenceData()
    for (const format of DATASET_FORMATS) expect(profileForFormat(profiles, format)).toBe(FORMATS[format].defaultProfile)
    expect(profileForFormat(profiles, 'vertex_gemini')).toBe('vertex_gemini')
    expect(() => profileForFormat(profiles, 'not_a_format')).toThrow(TypeError)
  })

  it('is fireworks for the OpenAI formats, vertex_gemini for Vertex and huggingface for the Hugging Face formats', () => {
    expect(Object.fromEntries(DATASET_FORMATS.map((format) => [format, FORMATS[format].defaultProfile]))).toEqual({
      bedrock_conversation_jsonl: 'bedrock_nova',
      openai_chat_jsonl: 'fireworks',
      openai_chat_json_schema_jsonl: 'fireworks',
      openai_chat_toolcall_jsonl: 'fireworks',
      huggingface_chat_template_jsonl: 'huggingface',
      huggingface_chat_template_toolcall_jsonl: 'huggingface',
      vertex_gemini_1_5: 'vertex_gemini',
      openai_preference_jsonl: 'fireworks',
      huggingface_preference_jsonl: 'huggingface',
      vertex_gemini_preference: 'vertex_gemini'
    })
  })

  it('never names a closing or closed profile, nor a retired or closing default model, in data/provider-profiles.json', async () => {
    const { profiles } = await loadReferenceData()
    for (const format of DATASET_FORMATS) {
      const name = FORMATS[format].defaultProfile
      const profile = profiles.profiles[name]
      expect(formatsOfProfile(name), `${format}: its default profile reads it`).toContain(format)
      expect(profile.status.state, `${format}: ${name}`).toBe('available')
      const model = profile.models[profile.default_model]
      expect(model, `${format}: ${name} lists its default model`).toBeDefined()
      expect(model?.retired, `${format}: ${name}/${profile.default_model}`).toBeUndefined()
      expect(model?.available_until, `${format}: ${name}/${profile.default_model}`).toBeUndefined()
      expect(availabilityWarnings(profile, profile.default_model)).toEqual([])
    }
  })
})

describe('the profile data', () => {
  it('dates every profile\'s model list and every source, and points the closing status at a page', async () => {
    const { profiles } = await loadReferenceData()
    for (const name of PROVIDER_PROFILES) {
      const profile = profiles.profiles[name]
      expect(profile.models_checked_on, name).toMatch(/^\d{4}-\d{2}-\d{2}$/)
      expect(profile.sources.length, name).toBeGreaterThan(0)
      for (const source of profile.sources) expect(source.read_on, `${name} ${source.url}`).toMatch(/^\d{4}-\d{2}-\d{2}$/)
      expect(profile.status.source, name).toMatch(/^https:\/\//)
    }
    expect(profiles.profiles.openai.status).toMatchObject({ state: 'closing', since: '2026-05-07', until: '2027-01-06' })
    expect(Object.keys(profiles.profiles.vertex_gemini.models).filter((model) => profiles.profiles.vertex_gemini.models[model]?.retired === undefined))
      .toEqual(['gemini-3.5-flash', 'gemini-3.5-flash-lite', 'gemini-3.1-flash-lite'])
    expect([profiles.profiles.fireworks.min_training_examples, profiles.profiles.fireworks.max_training_examples]).toEqual([3, 3_000_000])
  })

  it('makes a closing profile and a retired or closing model warnings, with their dates', async () => {
    const data = await loadReferenceData()
    expect(resolveProfile(data, 'openai').availability).toEqual([
      {
        code: 'PROFILE_CLOSING',
        message: `OpenAI supervised fine-tuning (chat) is closing (announced 2026-05-07; no new jobs after 2027-01-06): ${data.profiles.profiles.openai.status.note} (https://developers.openai.com/api/docs/deprecations)`
      },
      { code: 'MODEL_CLOSING', message: expect.stringMatching(/^gpt-4o-mini-2024-07-18 is announced to stay available until 2027-01-14 only: /) as unknown as string }
    ])
    expect(resolveProfile(data, 'vertex_gemini', { model: 'gemini-2.5-flash' }).availability).toEqual([{
      code: 'MODEL_RETIRED',
      message: 'gemini-2.5-flash was retired on 2026-10-16; pick a current model (GET /validation/profiles): Replaced by Gemini 3.5 Flash-Lite or Gemini 3.1 Flash-Lite.'
    }])
    const closed: ProviderProfiles = structuredClone(data.profiles)
    closed.profiles.together.status = { state: 'closed', since: '2027-02-01', note: 'Gone.', source: 'https://example.com' }
    expect(resolveProfile({ ...data, profiles: closed }, 'together').availability).toEqual([
      { code: 'PROFILE_CLOSED', message: 'Together AI fine-tuning (conversational JSONL) is closed (closed 2027-02-01): Gone. (https://example.com)' }
    ])
  })
})
