import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import datasetRoutes from '../../src/http/routes/datasets.js'
import metaRoutes from '../../src/http/routes/meta.js'
import validateRoutes from '../../src/http/routes/validate.js'

describe('route plugins', () => {
  it('name the plugins whose decorations they use when registered without them', async () => {
    for (const [routes, missing] of [[datasetRoutes, 'export-slots'], [validateRoutes, 'export-slots'], [metaRoutes, 'overload']] as const) {
      const app = Fastify()
      await expect(app.register(routes, { formats: ['openai_chat_jsonl'] })).rejects.toThrow(`The dependency '${missing}' of plugin`)
      await app.close()
    }
  })
})
