import fp from 'fastify-plugin'
import { ExportSlots, type ExportSlotsOptions } from '../export-slots.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The export slots (MAX_CONCURRENT_EXPORTS) the export and validate routes take one of. */
    exportSlots: ExportSlots
  }
}

/**
 * Decorates the app with its export slots (see export-slots.ts: slow readers give theirs up,
 * EXPORT_DEADLINE_MS stops every export).
 * @see https://fastify.dev/docs/latest/Reference/Decorators/
 */
export default fp(async (app, options: ExportSlotsOptions) => {
  app.decorate('exportSlots', new ExportSlots(options))
}, { name: 'export-slots' })
