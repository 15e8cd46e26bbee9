import { type ValidationReport } from '../../validate/index.js'

/**
 * The report of the example project's train split (`npm start`, body {"split_name": "train", "format":
 * "openai_chat_json_schema_jsonl", "system_message": "Write a one-line joke about the topic."}), for the
 * OpenAPI document; test/http/validate.test.ts checks that the service answers exactly this.
 */
export const REPORT_EXAMPLE: ValidationReport = {
  dataset: { id: '150621256807', name: 'Jokes v1' },
  format: 'openai_chat_json_schema_jsonl',
  data_strategy: 'final_only',
  provider_profile: {
    name: 'openai',
    title: 'OpenAI supervised fine-tuning (chat)',
    model: 'gpt-4o-mini-2024-07-18',
    tokenizer: 'o200k_base',
    max_tokens_per_example: 65536,
    min_training_examples: 10,
    max_validation_examples: null,
    as_of: '2026-11-26'
  },
  status: 'errors',
  error_count: 1,
  warning_count: 0,
  estimated_cost: 0.014688,
  currency: 'USD',
  summary: ['train [training]: FAILS (1 error, 0 warnings); 6 examples, 306 tokens; estimated 0.014688 USD (4,896 billed tokens, 16 epochs)'],
  splits: [{
    name: 'train',
    role: 'training',
    status: 'errors',
    run_count: 6,
    line_count: 6,
    exportable: true,
    error_count: 1,
    warning_count: 0,
    problem_counts: { TOO_FEW_TRAINING_EXAMPLES: 1 },
    problems: [{ run_id: null, line: null, severity: 'error', code: 'TOO_FEW_TRAINING_EXAMPLES', message: '6 examples: OpenAI supervised fine-tuning (chat) needs at least 10' }],
    problems_truncated: false,
    tokens: { tokenizer: 'o200k_base', examples: 6, total: 306, min: 45, mean: 51, p50: 49.5, p95: 60.5, max: 64, limit: 65536, over_limit: 0 },
    cost: {
      billed_tokens_per_epoch: 306,
      epochs: 16,
      epochs_source: 'openai_auto',
      billed_tokens: 4896,
      price_per_million_tokens: 3,
      currency: 'USD',
      price_source: 'data/prices.json as of 2026-11-26, confidence high',
      estimated_cost: 0.014688
    }
  }],
  notes: [
    'Tokens are counted with o200k_base the way OpenAI\'s cookbook counts chat examples (3 per message, 1 per name, 3 for the reply priming).',
    'Cost = billed tokens x epochs x 3 USD per million (data/prices.json as of 2026-11-26, confidence high): an estimate, not a quote.'
  ]
}
