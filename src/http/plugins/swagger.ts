import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fp from 'fastify-plugin'

/** The OpenAPI document's fixed part; paths come from the route schemas. */
export const OPENAPI_INFO = {
  title: 'kiln-export',
  description:
    'Streams Kiln fine-tuning datasets as provider JSONL, byte-for-byte like Kiln\'s dataset_formatter. ' +
    'Send the dataset split and its task runs inline, or name a dataset split of a mounted Kiln project.',
  version: '0.1.0',
  license: { name: 'MIT', identifier: 'MIT' }
}

/**
 * OpenAPI 3.1 document generated from the TypeBox route schemas, served at /openapi.json, and
 * Swagger UI at /docs where a person can try an export.
 * @see https://github.com/fastify/fastify-swagger
 */
export default fp(async (app, options: { tokenRequired?: boolean }) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: OPENAPI_INFO,
      tags: [
        { name: 'datasets', description: 'Export dataset splits as training files.' },
        { name: 'exports', description: 'Export jobs: the same export, run in the background and kept in a result store, for large exports, proxies with idle timeouts and several machines.' },
        { name: 'validation', description: 'Check a dataset before training: problems, provider rules, tokens and estimated cost.' },
        { name: 'meta', description: 'Formats, health and documentation.' }
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'Required on every route but /health and /ready when the service runs with API_TOKEN set.' }
        }
      },
      // Operations require the token (Swagger UI's lock icon) only when API_TOKEN is set.
      ...(options.tokenRequired === true ? { security: [{ bearerAuth: [] }] } : {})
    },
    hideUntagged: true
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { docExpansion: 'list', deepLinking: true, tryItOutEnabled: true, persistAuthorization: true }
  })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}, { name: 'swagger' })
