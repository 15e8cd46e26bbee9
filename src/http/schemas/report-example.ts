import { type ValidationReport } from '../../validate/index.js'

/**
 * The report of the example project's train split (`npm start`, body {"split_name": "train", "format":
 * "openai_chat_json_schema_jsonl", "system_message": "Write a one-line joke about the topic."}), for the
 * OpenAPI document; test/http/validate.test.ts checks that the service answers exactly this. The
 * format's default profile is fireworks (OpenAI's own fine-tuning is closing).
 */
export const REPORT_EXAMPLE: ValidationReport = {
  dataset: { id: '150621256807', name: 'Jokes v1' },
  format: 'openai_chat_json_schema_jsonl',
  data_strategy: 'final_only',
  provider_profile: {
    name: 'fireworks',
    title: 'Fireworks AI managed supervised fine-tuning (OpenAI-compatible chat)',
    model: 'qwen3-8b',
    tokenizer: 'o200k_base',
    max_tokens_per_example: null,
    min_training_examples: 3,
    max_training_examples: 3000000,
    max_validation_examples: null,
    as_of: '2026-12-05',
    status: 'available',
    models_checked_on: '2026-12-05'
  },
  status: 'ok',
  error_count: 0,
  warning_count: 0,
  estimated_cost: null,
  currency: null,
  summary: ['train [training]: passes (0 errors, 0 warnings); 6 examples, 306 tokens; 306 billed tokens (1 epoch), no price'],
  splits: [{
    name: 'train',
    role: 'training',
    status: 'ok',
    run_count: 6,
    line_count: 6,
    exportable: true,
    error_count: 0,
    warning_count: 0,
    problem_counts: {},
    problems: [],
    problems_truncated: false,
    tokens: { tokenizer: 'o200k_base', examples: 6, total: 306, min: 45, mean: 51, p50: 49.5, p95: 60.5, max: 64, limit: null, over_limit: 0 },
    cost: {
      billed_tokens_per_epoch: 306,
      epochs: 1,
      epochs_source: 'profile_default',
      billed_tokens: 306,
      price_per_million_tokens: null,
      currency: null,
      price_source: null,
      estimated_cost: null
    }
  }],
  notes: [
    'Tokens are counted with o200k_base the way OpenAI\'s cookbook counts chat examples (3 per message, 1 per name, 3 for the reply priming): an estimate of the base model\'s own tokenizer.',
    'No price for this model: send price_per_million_tokens for a cost estimate.',
    'qwen3-8b: Listed as tunable; its context length was not in the stored copy of the table: pass max_tokens_per_example (the job\'s context length).',
    'No default epoch count was found on Fireworks\' pages; 1 is an assumption: pass epochs for a firmer estimate.'
  ]
}
