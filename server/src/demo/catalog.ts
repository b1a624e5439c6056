/**
 * The fictional organisation whose agents the demo simulates: models and their providers, tools,
 * text agents and voice agents. Everything here is static data plus small generators for tool
 * arguments and results, so that a dashboard filtered by agent, tool, model, environment or
 * version shows plausible differences (a slow tool, an error-prone staging build, a costly model).
 */
import type { Rng } from './random';

// ---------------------------------------------------------------------------------------------
// Models and providers
// ---------------------------------------------------------------------------------------------

export type ProviderKey = 'openai' | 'anthropic' | 'google';

/**
 * How each convention spells a provider. They disagree, and the OTel value itself was renamed
 * (`vertex_ai` became `gcp.vertex_ai`), which is exactly what a receiver has to cope with.
 */
export interface ProviderNames {
  /** `gen_ai.provider.name`, current OTel GenAI conventions. */
  otel: string;
  /** `gen_ai.system`, older OTel GenAI conventions. */
  otelLegacy: string;
  /** OpenInference `llm.provider`. */
  openinference: string;
  /** OpenInference `llm.system`. */
  openinferenceSystem: string;
  /** `gen_ai.system` as OpenLLMetry writes it. */
  openllmetry: string;
  /** Vercel AI SDK `ai.model.provider` (also copied into `gen_ai.system`). */
  vercel: string;
  /** Host the client talks to (`server.address`). */
  serverAddress: string;
  /** Instrumentation library names, used as tracer (scope) names so spans look like the real thing. */
  otelScope: string;
  openinferenceScope: string;
  openllmetryScope: string;
  openllmetrySpanName: string;
  openinferenceSpanName: string;
}

export const PROVIDERS: Record<ProviderKey, ProviderNames> = {
  openai: {
    otel: 'openai',
    otelLegacy: 'openai',
    openinference: 'openai',
    openinferenceSystem: 'openai',
    openllmetry: 'openai',
    vercel: 'openai.chat',
    serverAddress: 'api.openai.com',
    otelScope: 'opentelemetry.instrumentation.openai_v2',
    openinferenceScope: 'openinference.instrumentation.openai',
    openllmetryScope: '@traceloop/instrumentation-openai',
    openllmetrySpanName: 'openai.chat',
    openinferenceSpanName: 'ChatCompletion',
  },
  anthropic: {
    otel: 'anthropic',
    otelLegacy: 'anthropic',
    openinference: 'anthropic',
    openinferenceSystem: 'anthropic',
    openllmetry: 'Anthropic',
    vercel: 'anthropic.messages',
    serverAddress: 'api.anthropic.com',
    otelScope: 'opentelemetry.instrumentation.anthropic',
    openinferenceScope: 'openinference.instrumentation.anthropic',
    openllmetryScope: '@traceloop/instrumentation-anthropic',
    openllmetrySpanName: 'anthropic.chat',
    openinferenceSpanName: 'Messages',
  },
  google: {
    otel: 'gcp.vertex_ai',
    otelLegacy: 'vertex_ai',
    openinference: 'google',
    openinferenceSystem: 'vertexai',
    openllmetry: 'VertexAI',
    vercel: 'google.vertex.chat',
    serverAddress: 'us-central1-aiplatform.googleapis.com',
    otelScope: 'opentelemetry.instrumentation.vertexai',
    openinferenceScope: 'openinference.instrumentation.vertexai',
    openllmetryScope: '@traceloop/instrumentation-vertexai',
    openllmetrySpanName: 'vertexai.generate_content',
    openinferenceSpanName: 'GenerateContent',
  },
};

export interface ModelSpec {
  /** The requested model: the model dimension on dashboards. */
  id: string;
  /** What the provider answers with: often a dated snapshot of the requested model. */
  responseModel: string;
  provider: ProviderKey;
  /** USD per million tokens, used for the `llm.cost.*` values some OpenInference spans carry. */
  price: { input: number; cachedInput: number; output: number };
  /** Whether the model spends hidden reasoning tokens (counted inside output tokens). */
  reasoning: boolean;
  /** Latency shape: time to first token and streaming speed. */
  firstTokenMs: number;
  msPerOutputToken: number;
}

export const MODELS: Record<string, ModelSpec> = {
  'gpt-4o': {
    id: 'gpt-4o', responseModel: 'gpt-4o-2024-08-06', provider: 'openai',
    price: { input: 2.5, cachedInput: 1.25, output: 10 }, reasoning: false,
    firstTokenMs: 450, msPerOutputToken: 14,
  },
  'gpt-4o-mini': {
    id: 'gpt-4o-mini', responseModel: 'gpt-4o-mini-2024-07-18', provider: 'openai',
    price: { input: 0.15, cachedInput: 0.075, output: 0.6 }, reasoning: false,
    firstTokenMs: 320, msPerOutputToken: 8,
  },
  'o4-mini': {
    id: 'o4-mini', responseModel: 'o4-mini-2025-04-16', provider: 'openai',
    price: { input: 1.1, cachedInput: 0.275, output: 4.4 }, reasoning: true,
    firstTokenMs: 900, msPerOutputToken: 9,
  },
  'claude-sonnet-4': {
    id: 'claude-sonnet-4', responseModel: 'claude-sonnet-4-20250514', provider: 'anthropic',
    price: { input: 3, cachedInput: 0.3, output: 15 }, reasoning: true,
    firstTokenMs: 700, msPerOutputToken: 15,
  },
  'claude-3-5-haiku': {
    id: 'claude-3-5-haiku', responseModel: 'claude-3-5-haiku-20241022', provider: 'anthropic',
    price: { input: 0.8, cachedInput: 0.08, output: 4 }, reasoning: false,
    firstTokenMs: 380, msPerOutputToken: 7,
  },
  'gemini-2.5-pro': {
    id: 'gemini-2.5-pro', responseModel: 'gemini-2.5-pro', provider: 'google',
    price: { input: 1.25, cachedInput: 0.31, output: 10 }, reasoning: true,
    firstTokenMs: 850, msPerOutputToken: 11,
  },
  'gemini-2.5-flash': {
    id: 'gemini-2.5-flash', responseModel: 'gemini-2.5-flash', provider: 'google',
    price: { input: 0.3, cachedInput: 0.075, output: 2.5 }, reasoning: true,
    firstTokenMs: 330, msPerOutputToken: 4,
  },
};

export function model(id: string): ModelSpec {
  const found = MODELS[id];
  if (!found) throw new Error(`unknown model ${id}`);
  return found;
}

// ---------------------------------------------------------------------------------------------
// Tools
// ---------------------------------------------------------------------------------------------

/** Context shared by the argument and result generators of one run (e.g. the order in question). */
export interface ToolContext {
  rng: Rng;
  subject: Record<string, string>;
}

export interface ToolSpec {
  name: string;
  description: string;
  /** JSON schema of the arguments, as frameworks send it to the model. */
  parameters: Record<string, unknown>;
  latency: { medianMs: number; sigma: number };
  /** Share of calls that fail in a way the agent recovers from (the model sees an error result). */
  errorRate: number;
  errorTypes: string[];
  /** The client-side timeout: a timed-out call lasts this long. */
  timeoutMs: number;
  timeoutType: string;
  /** Whether a call can plausibly take minutes (test suites, big queries, slow upstreams). */
  canRunLong: boolean;
  args(ctx: ToolContext): Record<string, unknown>;
  result(ctx: ToolContext, args: Record<string, unknown>): unknown;
}

function schema(props: Record<string, string>, required = Object.keys(props)): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const [k, type] of Object.entries(props)) properties[k] = { type };
  return { type: 'object', properties, required };
}

const CITIES = ['Lisbon', 'Berlin', 'Tokyo', 'Toronto', 'Nairobi', 'Melbourne', 'Oslo', 'Mexico City', 'Seoul', 'Madrid'];
const PRODUCTS = ['wireless headphones', 'standing desk', 'espresso machine', 'running shoes', '4K monitor', 'backpack', 'air purifier'];
const TOPICS = [
  'solid-state battery recycling', 'EU AI Act obligations for deployers', 'heat pump adoption in Nordic countries',
  'vector database benchmarks', 'carbon capture costs per tonne', 'open-source LLM licensing', 'urban rail ridership after 2020',
];
const REPOS = ['payments-service', 'web-frontend', 'ingest-pipeline', 'mobile-app', 'auth-gateway'];
const FILES = ['src/handlers/refund.ts', 'src/db/migrations/0042_add_index.sql', 'lib/retry.py', 'cmd/server/main.go', 'src/components/Checkout.tsx'];

export { CITIES, PRODUCTS, TOPICS, REPOS, FILES };

export const TOOLS: Record<string, ToolSpec> = {
  web_search: {
    name: 'web_search', description: 'Search the web and return the top results.',
    parameters: schema({ query: 'string', max_results: 'integer' }, ['query']),
    latency: { medianMs: 950, sigma: 0.45 }, errorRate: 0.03, errorTypes: ['RateLimitError', 'ConnectionError'],
    timeoutMs: 30_000, timeoutType: 'httpx.ReadTimeout', canRunLong: false,
    args: ({ rng, subject }) => ({ query: `${subject.topic ?? rng.pick(TOPICS)} ${rng.pick(['2026', 'latest data', 'overview', 'study'])}`, max_results: 5 }),
    result: ({ rng, subject }) => ({
      results: Array.from({ length: 3 }, (_, i) => ({
        title: `${subject.topic ?? 'Report'}: ${rng.pick(['an overview', 'new figures', 'what changed', 'analysis'])} (${i + 1})`,
        url: `https://${rng.pick(['example.org', 'news.example.com', 'research.example.net'])}/${rng.token(8).toLowerCase()}`,
      })),
    }),
  },
  fetch_url: {
    name: 'fetch_url', description: 'Download a web page and return its readable text.',
    parameters: schema({ url: 'string' }),
    latency: { medianMs: 700, sigma: 0.6 }, errorRate: 0.05, errorTypes: ['HTTPError', 'ContentTooLarge'],
    timeoutMs: 20_000, timeoutType: 'httpx.ReadTimeout', canRunLong: false,
    args: ({ rng }) => ({ url: `https://research.example.net/${rng.token(10).toLowerCase()}` }),
    result: ({ rng }) => ({ status: 200, characters: rng.int(2_000, 40_000), excerpt: 'The figures show a steady increase year over year, with most of the growth in the last two quarters.' }),
  },
  sql_query: {
    name: 'sql_query', description: 'Run a read-only SQL query against the analytics warehouse.',
    parameters: schema({ query: 'string' }),
    latency: { medianMs: 420, sigma: 0.9 }, errorRate: 0.05, errorTypes: ['ProgrammingError', 'OperationalError'],
    timeoutMs: 60_000, timeoutType: 'TimeoutError', canRunLong: true,
    args: ({ rng, subject }) => ({
      query: subject.invoice
        ? `SELECT id, amount_cents, status FROM invoices WHERE customer_id = '${subject.customer}' ORDER BY issued_at DESC LIMIT ${rng.int(3, 12)}`
        : `SELECT date_trunc('month', created_at) AS month, count(*) FROM events WHERE kind = '${rng.pick(['signup', 'purchase', 'churn'])}' GROUP BY 1 ORDER BY 1`,
    }),
    result: ({ rng }) => ({ row_count: rng.int(1, 40), rows: [[rng.int(1000, 9000), rng.int(1, 500)], [rng.int(1000, 9000), rng.int(1, 500)]] }),
  },
  send_email: {
    name: 'send_email', description: 'Send an email to a customer or colleague.',
    parameters: schema({ to: 'string', subject: 'string', body: 'string' }),
    latency: { medianMs: 320, sigma: 0.35 }, errorRate: 0.02, errorTypes: ['SMTPRecipientsRefused'],
    timeoutMs: 15_000, timeoutType: 'TimeoutError', canRunLong: false,
    args: ({ subject }) => ({ to: `${subject.customer ?? 'customer'}@example.com`, subject: subject.emailSubject ?? 'Your request', body: 'Hello, here is an update on your request. Best regards.' }),
    result: ({ rng }) => ({ message_id: `<${rng.token(16)}@mail.example.com>`, status: 'queued' }),
  },
  get_weather: {
    name: 'get_weather', description: 'Get the weather forecast for a city and date.',
    parameters: schema({ city: 'string', date: 'string' }),
    latency: { medianMs: 210, sigma: 0.3 }, errorRate: 0.01, errorTypes: ['HTTPError'],
    timeoutMs: 10_000, timeoutType: 'requests.exceptions.ReadTimeout', canRunLong: false,
    args: ({ subject }) => ({ city: subject.city, date: subject.date }),
    result: ({ rng }) => ({ temp_c: rng.int(-5, 34), conditions: rng.pick(['sunny', 'light rain', 'cloudy', 'thunderstorms', 'snow showers']), precipitation_mm: rng.int(0, 12) }),
  },
  lookup_order: {
    name: 'lookup_order', description: 'Look up an order by its id.',
    parameters: schema({ order_id: 'string' }),
    latency: { medianMs: 140, sigma: 0.4 }, errorRate: 0.04, errorTypes: ['OrderNotFound'],
    timeoutMs: 10_000, timeoutType: 'TimeoutError', canRunLong: false,
    args: ({ subject }) => ({ order_id: subject.order }),
    result: ({ rng, subject }) => ({
      order_id: subject.order, status: rng.pick(['delivered', 'in_transit', 'processing', 'returned']),
      items: [{ name: subject.product, quantity: 1 }], carrier: rng.pick(['DHL', 'UPS', 'PostNord']),
    }),
  },
  search_knowledge_base: {
    name: 'search_knowledge_base', description: 'Search help-centre articles.',
    parameters: schema({ query: 'string' }),
    latency: { medianMs: 260, sigma: 0.4 }, errorRate: 0.01, errorTypes: ['IndexUnavailable'],
    timeoutMs: 10_000, timeoutType: 'TimeoutError', canRunLong: false,
    args: ({ subject }) => ({ query: `${subject.issue} ${subject.product}` }),
    result: ({ rng }) => ({ articles: [{ id: `KB-${rng.int(100, 999)}`, title: rng.pick(['Returns and replacements', 'Damaged deliveries', 'Warranty claims', 'Changing a delivery address']) }] }),
  },
  create_ticket: {
    name: 'create_ticket', description: 'Open a support ticket for a human agent.',
    parameters: schema({ subject: 'string', priority: 'string', customer_id: 'string' }),
    latency: { medianMs: 380, sigma: 0.35 }, errorRate: 0.02, errorTypes: ['ValidationError'],
    timeoutMs: 15_000, timeoutType: 'TimeoutError', canRunLong: false,
    args: ({ rng, subject }) => ({ subject: `${subject.issue}: order ${subject.order}`, priority: rng.pick(['low', 'normal', 'normal', 'high']), customer_id: subject.customer }),
    result: ({ rng }) => ({ ticket_id: `SUP-${rng.int(10000, 99999)}`, queue: rng.pick(['returns', 'logistics', 'billing']) }),
  },
  search_flights: {
    name: 'search_flights', description: 'Search flights between two cities on a date.',
    parameters: schema({ origin: 'string', destination: 'string', date: 'string' }),
    latency: { medianMs: 1_600, sigma: 0.5 }, errorRate: 0.05, errorTypes: ['UpstreamUnavailable'],
    timeoutMs: 45_000, timeoutType: 'TimeoutError', canRunLong: true,
    args: ({ subject }) => ({ origin: subject.origin, destination: subject.city, date: subject.date }),
    result: ({ rng }) => ({ flights: [{ flight: `${rng.pick(['LH', 'TP', 'AC', 'NH', 'QF'])}${rng.int(100, 999)}`, price_eur: rng.int(90, 1200), stops: rng.int(0, 1) }] }),
  },
  book_hotel: {
    name: 'book_hotel', description: 'Book a hotel room.',
    parameters: schema({ city: 'string', check_in: 'string', nights: 'integer' }),
    latency: { medianMs: 1_100, sigma: 0.4 }, errorRate: 0.03, errorTypes: ['PaymentDeclined', 'NoAvailability'],
    timeoutMs: 30_000, timeoutType: 'TimeoutError', canRunLong: false,
    args: ({ rng, subject }) => ({ city: subject.city, check_in: subject.date, nights: rng.int(1, 6) }),
    result: ({ rng }) => ({ confirmation: `HX${rng.token(6).toUpperCase()}`, total_eur: rng.int(120, 1800) }),
  },
  read_file: {
    name: 'read_file', description: 'Read a file from the repository under review.',
    parameters: schema({ path: 'string' }),
    latency: { medianMs: 70, sigma: 0.4 }, errorRate: 0.03, errorTypes: ['FileNotFoundError'],
    timeoutMs: 10_000, timeoutType: 'TimeoutError', canRunLong: false,
    args: ({ subject }) => ({ path: subject.file }),
    result: ({ rng }) => ({ lines: rng.int(40, 900), excerpt: 'function applyRefund(order, amount) {\n  if (amount > order.total) throw new Error("refund exceeds total");\n' }),
  },
  run_tests: {
    name: 'run_tests', description: 'Run the test suite for a path and report failures.',
    parameters: schema({ path: 'string' }),
    latency: { medianMs: 22_000, sigma: 0.5 }, errorRate: 0.04, errorTypes: ['TestRunnerCrashed'],
    timeoutMs: 120_000, timeoutType: 'subprocess.TimeoutExpired', canRunLong: true,
    args: ({ subject }) => ({ path: subject.file.split('/').slice(0, -1).join('/') || '.' }),
    result: ({ rng }) => ({ passed: rng.int(40, 400), failed: rng.chance(0.3) ? rng.int(1, 4) : 0, duration_s: rng.int(8, 90) }),
  },
  post_review_comment: {
    name: 'post_review_comment', description: 'Post a review comment on the pull request.',
    parameters: schema({ path: 'string', line: 'integer', body: 'string' }),
    latency: { medianMs: 450, sigma: 0.3 }, errorRate: 0.02, errorTypes: ['GitHubAPIError'],
    timeoutMs: 15_000, timeoutType: 'TimeoutError', canRunLong: false,
    args: ({ rng, subject }) => ({ path: subject.file, line: rng.int(5, 300), body: rng.pick(['This branch is never tested.', 'Consider a guard for negative amounts.', 'This query needs an index on customer_id.']) }),
    result: ({ rng }) => ({ comment_id: rng.int(1_000_000, 9_999_999) }),
  },
  lookup_invoice: {
    name: 'lookup_invoice', description: 'Fetch an invoice and its payment status.',
    parameters: schema({ invoice_id: 'string' }),
    latency: { medianMs: 180, sigma: 0.35 }, errorRate: 0.03, errorTypes: ['InvoiceNotFound'],
    timeoutMs: 10_000, timeoutType: 'TimeoutError', canRunLong: false,
    args: ({ subject }) => ({ invoice_id: subject.invoice }),
    result: ({ rng, subject }) => ({ invoice_id: subject.invoice, amount_eur: rng.int(9, 2400), status: rng.pick(['paid', 'overdue', 'paid', 'refunded']) }),
  },
  issue_refund: {
    name: 'issue_refund', description: 'Refund all or part of an invoice.',
    parameters: schema({ invoice_id: 'string', amount_eur: 'number' }),
    latency: { medianMs: 650, sigma: 0.4 }, errorRate: 0.05, errorTypes: ['PaymentProviderError', 'RefundLimitExceeded'],
    timeoutMs: 30_000, timeoutType: 'stripe.error.Timeout', canRunLong: false,
    args: ({ rng, subject }) => ({ invoice_id: subject.invoice, amount_eur: rng.int(5, 300) }),
    result: ({ rng }) => ({ refund_id: `re_${rng.token(14)}`, status: 'succeeded' }),
  },
};

export function tool(name: string): ToolSpec {
  const found = TOOLS[name];
  if (!found) throw new Error(`unknown tool ${name}`);
  return found;
}

// ---------------------------------------------------------------------------------------------
// Text agents
// ---------------------------------------------------------------------------------------------

export interface AgentSpec {
  name: string;
  /** Stable agent id (OTel `gen_ai.agent.id`): the agent, not the run. */
  id: string;
  description: string;
  /** `service.name` of the application that hosts the agent. */
  service: string;
  versions: { production: string; staging: string };
  models: [string, number][];
  tools: string[];
  /** How many rounds of tool calls a run usually makes (inclusive range). */
  toolRounds: [number, number];
  /** Share of LLM calls that use reasoning, on models that can. */
  reasoningShare: number;
  /** Share of this agent's traffic (relative weight). */
  weight: number;
  /** Apps that instrument only their LLM client, with no agent span (run named after the service). */
  llmOnly?: boolean;
  /** A sub-agent this agent sometimes hands work to. */
  subAgent?: SubAgentSpec;
  systemPrompt: string;
  /** Subject of one run: the order, city, topic... that arguments and texts refer to. */
  subject(rng: Rng): Record<string, string>;
  userMessage(subject: Record<string, string>, rng: Rng): string;
  finalAnswer(subject: Record<string, string>, rng: Rng): string;
  reasoning(subject: Record<string, string>): string;
}

export interface SubAgentSpec {
  name: string;
  id: string;
  description: string;
  model: string;
  tools: string[];
}

function orderId(rng: Rng): string {
  return `A${rng.int(100000, 999999)}`;
}

function futureDate(rng: Rng): string {
  const d = new Date(Date.UTC(2026, rng.int(0, 11), rng.int(1, 28)));
  return d.toISOString().slice(0, 10);
}

export const AGENTS: AgentSpec[] = [
  {
    name: 'support-triage', id: 'agt_support_triage', weight: 5,
    description: 'Answers order questions and routes hard cases to humans.',
    service: 'support-triage-api', versions: { production: '3.4.2', staging: '3.5.0-rc.2' },
    models: [['gpt-4o-mini', 6], ['gpt-4o', 3], ['claude-3-5-haiku', 1]],
    tools: ['lookup_order', 'search_knowledge_base', 'create_ticket', 'send_email'], toolRounds: [1, 3], reasoningShare: 0,
    systemPrompt: 'You are the support triage assistant for an online shop. Look orders up before answering. Open a ticket when a human must act. Never promise refunds.',
    subject: (rng) => ({ order: orderId(rng), product: rng.pick(PRODUCTS), customer: `cus_${rng.token(8)}`, issue: rng.pick(['damaged item', 'late delivery', 'wrong size', 'missing part']), emailSubject: 'About your order' }),
    userMessage: (s, rng) => rng.pick([
      `My order ${s.order} arrived with a ${s.issue}. The ${s.product} is unusable. What can you do?`,
      `Hi, where is order ${s.order}? It has been two weeks.`,
      `I got a ${s.issue} with my ${s.product} (order ${s.order}). Can I get a replacement?`,
    ]),
    finalAnswer: (s) => `I'm sorry about the ${s.issue}. I've looked up order ${s.order} and opened a ticket with our returns team; you'll get an email with a prepaid return label within one business day.`,
    reasoning: (s) => `The customer reports a ${s.issue} on order ${s.order}. Check the order status first, then decide between a knowledge-base answer and a ticket.`,
  },
  {
    name: 'research-assistant', id: 'agt_research_assistant', weight: 3,
    description: 'Researches a topic on the web and in the warehouse and writes a cited summary.',
    service: 'research-assistant', versions: { production: '1.12.0', staging: '1.13.0-beta.1' },
    models: [['claude-sonnet-4', 5], ['gemini-2.5-pro', 3], ['o4-mini', 2]],
    tools: ['web_search', 'fetch_url', 'sql_query'], toolRounds: [1, 3], reasoningShare: 0.6,
    subAgent: { name: 'web-researcher', id: 'agt_web_researcher', description: 'Finds and reads sources for one question.', model: 'gpt-4o-mini', tools: ['web_search', 'fetch_url'] },
    systemPrompt: 'You are a careful research assistant. Cite every claim. Prefer primary sources. Say when evidence is weak.',
    subject: (rng) => ({ topic: rng.pick(TOPICS) }),
    userMessage: (s, rng) => rng.pick([`Give me a one-page brief on ${s.topic}, with sources.`, `What is the current state of ${s.topic}? Summarise the evidence.`, `Compare the main positions on ${s.topic}.`]),
    finalAnswer: (s) => `Here is a brief on ${s.topic}. Three independent sources agree on the overall trend; figures differ by about 15% depending on methodology. Sources are listed at the end.`,
    reasoning: (s) => `The question on ${s.topic} needs recent figures. Search first, read the two most authoritative results, then check whether our warehouse has internal numbers to compare.`,
  },
  {
    name: 'code-reviewer', id: 'agt_code_reviewer', weight: 2,
    description: 'Reviews pull requests, runs the tests and posts comments.',
    service: 'code-review-bot', versions: { production: '0.9.3', staging: '0.10.0-rc.1' },
    models: [['claude-sonnet-4', 6], ['gpt-4o', 2], ['o4-mini', 2]],
    tools: ['read_file', 'run_tests', 'post_review_comment'], toolRounds: [2, 3], reasoningShare: 0.5,
    systemPrompt: 'You review pull requests. Read the changed files, run the tests, and post specific, actionable comments. Do not nitpick formatting.',
    subject: (rng) => ({ repo: rng.pick(REPOS), file: rng.pick(FILES), pr: String(rng.int(100, 4000)) }),
    userMessage: (s) => `Review pull request #${s.pr} in ${s.repo}. The main change is in ${s.file}.`,
    finalAnswer: (s) => `Reviewed #${s.pr}: tests pass, two comments posted on ${s.file} (an unguarded edge case and a missing index). Approving once addressed.`,
    reasoning: (s) => `The diff in ${s.file} changes control flow around refunds. I should read the file, run its tests, and look for unhandled edge cases before commenting.`,
  },
  {
    name: 'travel-planner', id: 'agt_travel_planner', weight: 3,
    description: 'Plans trips: weather, flights and hotels.',
    service: 'travel-planner-web', versions: { production: '2.1.0', staging: '2.2.0-rc.1' },
    models: [['gpt-4o', 5], ['gemini-2.5-flash', 5]],
    tools: ['get_weather', 'search_flights', 'book_hotel', 'send_email'], toolRounds: [1, 3], reasoningShare: 0.2,
    systemPrompt: 'You are a travel planner. Check the weather and flights before suggesting plans. Only book after the user has confirmed.',
    subject: (rng) => {
      const [origin, city] = rng.shuffle(CITIES);
      return { origin, city, date: futureDate(rng), customer: `trv_${rng.token(6)}`, emailSubject: `Your trip to ${city}` };
    },
    userMessage: (s, rng) => rng.pick([`Plan a long weekend in ${s.city} from ${s.origin} around ${s.date}.`, `What's the weather in ${s.city} on ${s.date}, and are there flights from ${s.origin}?`, `Book me a hotel in ${s.city} from ${s.date}, I fly in from ${s.origin}.`]),
    finalAnswer: (s) => `For ${s.city} around ${s.date}: mild weather expected, a direct flight from ${s.origin} is available, and I've put together a three-day plan. I sent the details to your email.`,
    reasoning: (s) => `Check the forecast for ${s.city} on ${s.date}, then flights from ${s.origin}; only book once prices are known.`,
  },
  {
    name: 'billing-bot', id: 'agt_billing_bot', weight: 3,
    description: 'Explains invoices and issues small refunds.',
    service: 'billing-bot', versions: { production: '5.0.1', staging: '5.1.0-rc.3' },
    models: [['gpt-4o-mini', 7], ['claude-3-5-haiku', 3]],
    tools: ['lookup_invoice', 'sql_query', 'issue_refund', 'send_email'], toolRounds: [1, 2], reasoningShare: 0,
    systemPrompt: 'You are the billing assistant. Explain charges clearly. Refunds above 300 EUR need a human. Always confirm by email.',
    subject: (rng) => ({ invoice: `INV-${rng.int(2024000, 2026999)}`, customer: `cus_${rng.token(8)}`, emailSubject: 'Your invoice' }),
    userMessage: (s, rng) => rng.pick([`Why was I charged twice on ${s.invoice}?`, `Can I get a refund for ${s.invoice}? I cancelled last week.`, `Please explain the extra line on invoice ${s.invoice}.`]),
    finalAnswer: (s) => `I checked ${s.invoice}: the second charge was a duplicate authorisation. I've refunded it; you'll see it within 5 business days, and a confirmation email is on its way.`,
    reasoning: (s) => `Look up ${s.invoice} and recent charges for this customer before deciding on a refund.`,
  },
  {
    name: 'faq-widget', id: 'agt_faq_widget', weight: 1, llmOnly: true,
    description: 'Website FAQ widget: one LLM call, no agent framework.',
    service: 'faq-widget', versions: { production: '1.4.0', staging: '1.5.0-rc.1' },
    models: [['gpt-4o-mini', 1]], tools: [], toolRounds: [0, 0], reasoningShare: 0,
    systemPrompt: 'Answer questions about our shipping and returns policy in two sentences.',
    subject: (rng) => ({ q: rng.pick(['How long do returns take?', 'Do you ship to Norway?', 'Can I change my delivery address?']) }),
    userMessage: (s) => s.q,
    finalAnswer: () => 'Returns are processed within 5 business days of arrival. You will get an email when the refund is issued.',
    reasoning: () => '',
  },
];

export function agent(name: string): AgentSpec {
  const found = AGENTS.find((a) => a.name === name);
  if (!found) throw new Error(`unknown agent ${name}`);
  return found;
}

// ---------------------------------------------------------------------------------------------
// Voice agents
// ---------------------------------------------------------------------------------------------

export interface VoiceAgentSpec {
  name: string;
  framework: 'livekit' | 'pipecat';
  service: string;
  versions: { production: string; staging: string };
  llm: string;
  stt: { provider: string; model: string };
  tts: { provider: string; model: string; voice: string };
  tools: string[];
  weight: number;
  userLines: string[];
  agentLines: string[];
}

export const VOICE_AGENTS: VoiceAgentSpec[] = [
  {
    name: 'phone-concierge', framework: 'livekit', service: 'phone-concierge',
    versions: { production: '2.0.4', staging: '2.1.0-rc.1' }, weight: 3,
    llm: 'gpt-4o-mini', stt: { provider: 'deepgram', model: 'nova-3' }, tts: { provider: 'cartesia', model: 'sonic-2', voice: 'f786b574-daa5-4673-aa0c-cbe3e8534c02' },
    tools: ['lookup_order', 'create_ticket'],
    userLines: ['Hi, I am calling about my order.', 'It still has not arrived.', 'The order number is A four two seven one nine.', 'Yes please, open a ticket.', 'Can you also send me an email?', 'No, that is all, thanks.'],
    agentLines: ['Hello! How can I help you today?', 'I can check that for you. What is the order number?', 'Thanks, one moment while I look it up.', 'Your order is with the carrier and should arrive tomorrow.', 'Done, I have opened a ticket for you.', 'You are welcome, goodbye!'],
  },
  {
    name: 'clinic-scheduler', framework: 'pipecat', service: 'clinic-voice-bot',
    versions: { production: '0.7.2', staging: '0.8.0-rc.2' }, weight: 2,
    llm: 'gpt-4o', stt: { provider: 'deepgram', model: 'nova-3' }, tts: { provider: 'elevenlabs', model: 'eleven_flash_v2_5', voice: 'EXAVITQu4vr4xnSDxMaL' },
    tools: [],
    userLines: ['I would like to book an appointment.', 'With Doctor Silva, if possible.', 'Next Tuesday morning works.', 'Nine thirty is fine.', 'My date of birth is the fourth of May.', 'Great, thank you.'],
    agentLines: ['Good morning, this is the clinic. How can I help?', 'Of course. Which doctor would you like to see?', 'Doctor Silva has openings on Tuesday at nine thirty and eleven.', 'I have booked nine thirty on Tuesday.', 'Thank you, I have confirmed your details.', 'You will get a text reminder. Goodbye!'],
  },
];
