"""Names and limits shared by the runtime, the CLI and the CDK app, so they cannot drift.

Only constants live here: importing this module must stay free (the CDK app imports it too).
"""

# --- environment variables ---------------------------------------------------------------
ENV_STORE = "GLYPH_STORE"  # sqlite:///abs/path.db or dynamodb://TABLE
ENV_HOME = "GLYPH_HOME"  # one folder for config, key and database (tests, portable setups)
ENV_URL = "GLYPH_URL"  # the server the CLI talks to
ENV_KEY = "GLYPH_KEY"  # "kid:BASE32SECRET", overrides the key file
ENV_KEY_PARAM = "GLYPH_KEY_PARAM"  # SSM parameter name holding the root key (AWS)
ENV_BASIC_AUTH = "GLYPH_BASIC_AUTH"  # optional second auth layer
ENV_REDACT = "GLYPH_REDACT"  # "refuse": a text holding a secret is refused (422) instead of redacted
ENV_LOG_LEVEL = "GLYPH_LOG_LEVEL"  # INFO (default: every request), WARNING (4xx and 5xx), ERROR (5xx)
ENV_PUBLIC_URL = "GLYPH_PUBLIC_URL"  # the public base URL for the links /r hands out
ENV_TRUST_FORWARDED = "GLYPH_TRUST_FORWARDED"  # "1": honour X-Forwarded-Host/Proto/For (behind your proxy)
ENV_OAUTH_REDIRECTS = "GLYPH_OAUTH_REDIRECTS"  # more allowed redirect URIs, comma-separated
ENV_OAUTH_CIMD_HOSTS = "GLYPH_OAUTH_CIMD_HOSTS"  # hosts whose client ID metadata documents are fetched
ENV_BRIDGE_URL = "GLYPH_BRIDGE_URL"  # the bridge glyph chat talks to (config.json: bridge_url)
ENV_BRIDGE_MODEL = "GLYPH_BRIDGE_MODEL"  # the bridge's Claude model
ENV_BRIDGE_MAX_TOKENS = "GLYPH_BRIDGE_MAX_TOKENS"  # the bridge's max_tokens per reply
ENV_BRIDGE_TIMEOUT_S = "GLYPH_BRIDGE_TIMEOUT_S"  # the bridge's wait for the Messages API's next event
ENV_BRIDGE_BUDGET = "GLYPH_BRIDGE_BUDGET"  # the bridge's context block budget (characters)
ENV_BRIDGE_TTL_S = "GLYPH_BRIDGE_TTL_S"  # how long the bridge keeps a conversation's turns
ENV_CLAUDE_DIR = "GLYPH_CLAUDE_DIR"  # Claude Code's folder for glyph init (default ~/.claude)
ENV_CLAUDE_DESKTOP_CONFIG = "GLYPH_CLAUDE_DESKTOP_CONFIG"  # Claude Desktop's config file
ENV_LAMBDA_PYTHON = "GLYPH_LAMBDA_PYTHON"  # the CDK app's bundling: an interpreter of the Lambda runtime's version
# Not GLYPH_*, read into the same settings: the Anthropic API's key and base URL (its SDK's names).
ENV_ANTHROPIC_API_KEY = "ANTHROPIC_API_KEY"
ENV_ANTHROPIC_BASE_URL = "ANTHROPIC_BASE_URL"

# --- HTTP --------------------------------------------------------------------------------
# CloudFront's viewer-request function puts the host the viewer used here (API Gateway sees
# only its own); the Lambda door trusts it, since CloudFront overwrites whatever a client sent.
PUBLIC_HOST_HEADER = "x-glyph-public-host"

# --- DynamoDB single-table layout ----------------------------------------------------------
PK = "pk"
SK = "sk"
GSI_BY_EPOCH = "by-epoch"
GSI_PARTITION = "namespace"  # only memory items carry it, so the index is sparse
GSI_SORT = "epoch_us"  # microseconds: a strict order even within one millisecond
TTL_ATTRIBUTE = "expires_at"
MEMORY_PREFIX = "MEM#"  # pk of a memory item: MEM#<id>
HASH_PREFIX = "HASH#"  # pk of a dedup claim: HASH#<namespace>#<content_hash>
# pk of a record (Store.records_*: sign-in steps, lockouts, quotas, OAuth grants, bridge turns):
# RECORD#... would be its name today; AUTH# stays so that stored records stay readable.
RECORD_PREFIX = "AUTH#"
INDEX_PREFIX = "IX#"  # search postings and term heads: IX#<namespace>#<generation>#<term>
INDEX_STATS_PREFIX = "IXS#"  # a namespace's search index statistics: IXS#<namespace>
SIMILAR_PREFIX = "SIM#"  # a near-duplicate band item: SIM#<namespace>#<band>#<value>

# --- memory limits -----------------------------------------------------------------------
ULID_PATTERN = r"[0-9A-HJKMNP-TV-Z]{26}"  # Crockford base32: a memory id
DEFAULT_NAMESPACE = "default"
NAMESPACE_PATTERN = r"[a-z0-9][a-z0-9._-]{0,63}"
MAX_TEXT_BYTES = 32 * 1024
MAX_TAGS = 16
MAX_TAG_CHARS = 64
MAX_SOURCE_CHARS = 64
MAX_SESSION_CHARS = 128
MAX_TTL_DAYS = 3650

# --- API limits --------------------------------------------------------------------------
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
DEFAULT_CONTEXT_BUDGET = 8000
MIN_CONTEXT_BUDGET = 500
MAX_CONTEXT_BUDGET = 200_000
MAX_QUERY_CHARS = 500
MAX_NAMESPACES_LISTED = 1000  # GET /v1/namespaces
SEARCH_SCAN_LIMIT = 5000  # a namespace whose index is still being built is searched by a scan of this many
# A search reads at most this many postings in all, shared among its terms, the best first
# (text_index.impact): what bounds its cost at any size of namespace (README, "Search").
SEARCH_POSTINGS_BUDGET = 200
# A search looks for memories the index lacks among this many newest (DynamoDB: 0.5 unit).
SEARCH_UNINDEXED_WINDOW = 5
SEARCH_MAX_TERMS = 32  # terms of a query looked up; more are ignored
INDEX_BUILD_STEP_S = 2.0  # a search of a namespace whose index is not ready builds it this long first
MAX_TERM_CHARS = 64  # a longer index term is cut (DynamoDB keys are at most 2,048 bytes)
# The characters of a word (a regex character class's inside), for the search index's terms
# and the words a search says it matched: word characters and combining marks (vowel signs,
# viramas, points: not \w, yet inside a word): combining diacritics left after NFKC,
# Cyrillic's, Hebrew's and Arabic's points, the Indic blocks (Devanagari to Sinhala, less the
# dandas, which end a sentence), Thai, Lao, Myanmar and Khmer. Han, kana and Hangul are \w.
WORD_CHARS = (
    r"\w\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7\u0610-\u061a"
    r"\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed\u0900-\u0963\u0966-\u0dff"
    r"\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"
)
# "N older memories not shown" stops counting here ("100+"): on DynamoDB counting reads
# every item counted, and at 1,000 the count was 9/10 of what a context block cost (bench/cost.py).
OLDER_COUNT_CAP = 100
MAX_URL_BYTES = 8192  # CloudFront's request URL limit
MAX_JSON_BODY_BYTES = 256 * 1024  # 32 KiB of text, even fully \u-escaped, fits
MAX_IMPORT_BODY_BYTES = 5 * 1024 * 1024  # under Lambda's 6 MB synchronous payload
EXPORT_PAGE_BYTES = 4 * 1024 * 1024  # one export answer; the rest follows by cursor

# --- tokens ------------------------------------------------------------------------------
MAX_TOKEN_CHARS = 64
TOKEN_SIG_BYTES = 16  # 128-bit HMAC-SHA256 truncation
MAX_TOKEN_TTL_S = 30 * 24 * 3600
ROOT_KID = "root"
KID_PATTERN = r"[a-z0-9][a-z0-9-]{0,23}"
OAUTH_ID_PATTERN = r"[A-Za-z0-9_-]{16,64}"  # an OAuth client id or a connector grant id (base64url)
MAX_KEY_NAME_CHARS = 64
SCOPES = ("r", "w", "rw", "a")  # read, write, both, admin (keys; root key only)
CHAT_TOKEN_TTL_S = 12 * 3600  # a chat's write token, `glyph url`'s and `glyph token`'s default
TOTP_DIGITS = 6
CODE_PATTERN = rf"[0-9]{{{TOTP_DIGITS}}}"
DEFAULT_KEY_PARAM = "/glyphmemory/root-key"  # the SSM parameter holding the root key
DEFAULT_ANTHROPIC_KEY_PARAM = "/glyphmemory/anthropic-api-key"  # the bridge's Messages API key (SSM)
ENV_BRIDGE_WORKER = "GLYPH_BRIDGE_WORKER"  # the bridge's worker function (the route invokes it)
ENV_ANTHROPIC_KEY_PARAM = "GLYPH_ANTHROPIC_KEY_PARAM"  # SSM SecureString holding the Anthropic API key
STACK_NAME = "GlyphMemory"  # the CloudFormation stack (infra/app.py, glyph init --aws --stack)
