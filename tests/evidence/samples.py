"""Secret samples in realistic contexts, and look-alikes that must survive redaction.

Every sample is fake. Tokens are assembled from parts so that no scanner mistakes
this file for a leak.
"""

from __future__ import annotations

__all__ = ["LOOKALIKES", "SECRETS"]

_B = "Zk3qL9xT2mR7vW1pN8sY4cH6"  # mixed-case filler, 24 chars
_HEX = "8f14e45fceea167a5a36dedd4bea2543"
_ANT = "sk-" + "ant-api03-" + _B + _B + "-Qw3_AA"
_OAI = "sk-" + "proj-" + _B + "T3BlbkFJ" + _B
_OAI_OLD = "sk-" + _B + "T3BlbkFJ" + _B[:20]
_AWS_ID = "AKIA" + "QYLPMN5HFIQR7XAB"
_AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "Zk3qL9xT2m"
_GHP = "ghp_" + _B + "aB3dE6gH9jK2"
_GHO = "gho_" + _B + "mN4pQ7rS0tU3"
_GHS = "ghs_" + _B + "vW5xY8zA1bC4"
_PAT = "github_pat_" + "11ABCDEFG0" + _B + "_" + _B + "xY9"
_JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJpc3MiOiJzdXBhYmFzZSIsInJvbGUiOiJzZXJ2aWNlX3JvbGUiLCJpYXQiOjE3MDAwMDAwMDB9."
    "Xq4f8kN2pL7vR1tW9yB3cE6hJ0mQ5sU8xZ2aD4gK7nP"
)
_JWT_ANON = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJyb2xlIjoiYW5vbiIsInJlZiI6ImFiY2RlZmdoaWprbG1ub3AifQ."
    "m3T9yQ2vL8pR5wK1zX7cB4nH6jF0dS3aG9eU2iO5tY8"
)
_SB = "sb_" + "secret_" + _B + "Kp2"
_SK_LIVE = "sk_" + "live_" + _B + "51Hx"
_SK_TEST = "sk_" + "test_" + _B + "q9Zr"
_RK_LIVE = "rk_" + "live_" + _B + "7LmN"
_SLACK = "xoxb-" + "1234567890123-1234567890123-" + _B
_GLPAT = "glpat-" + "Ab3De6Gh9Jk2Mn5Pq8St"
_NPM = "npm_" + _B + "Rt5Vw8Yz1Ab4"
_PYPI = "pypi-" + "AgEIcHlwaS5vcmcCJDU2" + _B + _B
_SENDGRID = "SG." + "Ab3De6Gh9Jk2Mn5Pq8St1u" + "." + _B + "Ab3De6Gh9Jk2Mn5Pq8St"
_TWILIO = "SK" + _HEX
_GOOGLE = "AIza" + "SyB3dE6gH9jK2mN5pQ8sT1vW4yZ7aC0eF3h"
_HF = "hf_" + _B + "AbCdEfGhIj"
_WHSEC = "whsec_" + _B + "Xy12"
_DJANGO = "django-insecure-" + "x7#k2@p9!m4$q1&z8^w5"
_BASIC = "dXNlcjpjb3JyZWN0LWhvcnNlLWJhdHRlcnk="
_AZURE = "Zk3qL9xT2mR7vW1pN8sY4cH6Zk3qL9xT2mR7vW1pN8sY4cH6Zk3qL9xT2mR7vW1pN8sY4cH6Zk3qL9xT2mR7vw=="
_RSA_BODY = "MIIEowIBAAKCAQEA" + _B + _B + "Q"
_SSH_BODY = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ" + _B
_EC_BODY = "MHcCAQEEIIrYSSNQFaA2Hwf1duRSxKtLYX5CB04fSeQ6tF1aY" + _B

# (context, text, the secret that must not survive)
SECRETS: list[tuple[str, str, str]] = [
    ("env dump anthropic", f"HOME=/root\nANTHROPIC_API_KEY={_ANT}\nPATH=/usr/bin", _ANT),
    ("env dump openai project", f"OPENAI_API_KEY={_OAI}\nTERM=xterm", _OAI),
    ("python openai legacy", f'openai.api_key = "{_OAI_OLD}"', _OAI_OLD),
    ("curl bearer", f'curl -sS -H "Authorization: Bearer {_B}{_B}" https://api.example.com/v1/me',
     _B + _B),
    ("curl x-api-key", f"curl https://api.anthropic.com/v1/messages -H 'x-api-key: {_ANT}'", _ANT),
    ("aws env id", f"AWS_ACCESS_KEY_ID={_AWS_ID}\nAWS_REGION=eu-west-1", _AWS_ID),
    ("aws env secret", f"AWS_SECRET_ACCESS_KEY={_AWS_SECRET}", _AWS_SECRET),
    ("aws credentials file", f"[default]\naws_access_key_id = {_AWS_ID}\n"
     f"aws_secret_access_key = {_AWS_SECRET}\n", _AWS_SECRET),
    ("github token in remote", f"git remote -v\norigin https://{_GHP}@github.com/o/r.git (fetch)",
     _GHP),
    ("github pat env", f"GH_TOKEN={_PAT}", _PAT),
    ("github oauth json", f'{{"github.com": {{"oauth_token": "{_GHO}", "user": "dev"}}}}', _GHO),
    ("jwt in stack trace", "Traceback (most recent call last):\n  File \"auth.py\", line 12\n"
     f"jwt.exceptions.ExpiredSignatureError: Signature has expired for {_JWT}", _JWT),
    ("supabase service role env", f"SUPABASE_SERVICE_ROLE_KEY={_JWT}", _JWT),
    ("supabase client js", f'const supabase = createClient("https://x.supabase.co", "{_JWT_ANON}")',
     _JWT_ANON),
    ("supabase new secret key", f"supabase secrets: {_SB}", _SB),
    ("rsa private key file", "$ cat id_rsa\n-----BEGIN RSA PRIVATE KEY-----\n"
     f"{_RSA_BODY}\n{_B}{_B}\n-----END RSA PRIVATE KEY-----\n", _RSA_BODY),
    ("openssh private key", "-----BEGIN OPENSSH PRIVATE KEY-----\n"
     f"{_SSH_BODY}\n-----END OPENSSH PRIVATE KEY-----", _SSH_BODY),
    ("ec key in json", '{"private_key": "-----BEGIN EC PRIVATE KEY-----\\n'
     f'{_EC_BODY}\\n-----END EC PRIVATE KEY-----\\n"}}', _EC_BODY),
    ("stripe live key", f"stripe.api_key = '{_SK_LIVE}'", _SK_LIVE),
    ("stripe test key in log", f"INFO using Stripe key {_SK_TEST} for checkout", _SK_TEST),
    ("stripe restricted key trace", f"stripe.error.AuthenticationError: No such key: {_RK_LIVE}",
     _RK_LIVE),
    ("slack bot token", f"SLACK_BOT_TOKEN={_SLACK}", _SLACK),
    ("postgres url", "DATABASE_URL=postgres://app:Corr3ct-Horse-Battery@db.internal:5432/app",
     "Corr3ct-Horse-Battery"),
    ("mysql url in trace", "sqlalchemy.exc.OperationalError: (pymysql.err.OperationalError) "
     "(2003, \"Can't connect\")\n(Background on: mysql+pymysql://root:Tr0ub4dor3x@localhost/shop)",
     "Tr0ub4dor3x"),
    ("redis url", "CELERY_BROKER=redis://:p4ssw0rdRedis99@cache:6379/0", "p4ssw0rdRedis99"),
    ("db password env", "DB_PASSWORD=correct-horse-battery-staple", "correct-horse-battery-staple"),
    ("gitlab token", f"export GITLAB_TOKEN={_GLPAT}", _GLPAT),
    ("npmrc", f"//registry.npmjs.org/:_authToken={_NPM}", _NPM),
    ("pypirc", f"[pypi]\nusername = __token__\npassword = {_PYPI}", _PYPI),
    ("sendgrid", f"sg = SendGridAPIClient('{_SENDGRID}')", _SENDGRID),
    ("twilio", f"TWILIO_API_KEY={_TWILIO}", _TWILIO),
    ("google key in url", f"GET https://maps.googleapis.com/maps/api/geocode/json?key={_GOOGLE}"
     "&address=x", _GOOGLE),
    ("basic auth header", f"> GET / HTTP/1.1\n> Authorization: Basic {_BASIC}\n> Host: x", _BASIC),
    ("requests headers", f'requests.get(url, headers={{"Authorization": "Bearer {_HEX}{_HEX}"}})',
     _HEX + _HEX),
    ("yaml api key", f'llm:\n  provider: openai\n  api_key: "{_B}{_HEX}"\n', _B + _HEX),
    ("docker run env", "docker run -e MY_SERVICE_SECRET=Zq8Lm2Xv9Kp4Wt7R app:latest",
     "Zq8Lm2Xv9Kp4Wt7R"),
    ("stripe webhook secret", f"STRIPE_WEBHOOK_SECRET={_WHSEC}", _WHSEC),
    ("huggingface token", f"HF_TOKEN={_HF} python train.py", _HF),
    ("django settings", f"SECRET_KEY = '{_DJANGO}'", _DJANGO),
    ("python environ assignment", f"os.environ['ANTHROPIC_API_KEY'] = '{_ANT}'", _ANT),
    ("json env", f'{{"env": {{"OPENAI_API_KEY": "{_OAI}"}}}}', _OAI),
    ("git insteadof", f"url.https://x-access-token:{_GHS}@github.com/.insteadof=https://github.com/",
     _GHS),
    ("azure connection string", "DefaultEndpointsProtocol=https;AccountName=acct;"
     f"AccountKey={_AZURE};EndpointSuffix=core.windows.net", _AZURE),
    ("quoted env value with spaces", "export STRIPE_KEY='live key with spaces 123'",
     "key with spaces 123"),
    ("json env value with spaces", '{"MY_TOKEN": "alpha bravo charlie 42"}', "bravo charlie 42"),
    ("k8s secret yaml", "apiVersion: v1\nkind: Secret\ndata:\n  password: "
     "cGFzc3dvcmQtZm9yLXByb2QtZGI=\n", "cGFzc3dvcmQtZm9yLXByb2QtZGI="),
]  # fmt: skip

LOOKALIKES: list[str] = [
    "commit 3f786850e387550fdab836ed7e6dc881de23001b\nAuthor: Dev <dev@example.com>",
    "request id 123e4567-e89b-12d3-a456-426614174000 took 12 ms",
    "image: python@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "id = models.AutoField(primary_key=True)",
    "SSH_KEY=~/.ssh/id_ed25519",
    "ANTHROPIC_API_KEY=$ANTHROPIC_API_KEY claude -p 'hi'",
    "OPENAI_API_KEY=<your-key-here>",
    "API_KEY=${API_KEY:?set it first}",
    "pip install scikit-learn  # sk-learn is not a package",
    "max_tokens: 4096\ntoken_count = 1500",
    "def get_api_key(self) -> str:\n    return os.environ['API_KEY']",
    "error: TOKEN_EXPIRED returned by the server; log in again",
    "GET https://example.com/search?page=2&sort=desc",
    "DATABASE_URL=postgres://localhost:5432/app",
    "data: eyJmb28iOiAiYmFyIn0=",
    "AWS access key ids start with AKIA; never commit them",
    "see /home/user/.config/gh/hosts.yml for the stored credentials",
    "GitHub classic tokens start with ghp_ and are 40 characters long",
    "npm install stripe@12.0.0 && npm test",
    "const isSecret = false;\nlet tokenizer = new Tokenizer();",
    "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----",
    "PING 8.8.8.8 (8.8.8.8): 56 data bytes",
    "pytest -k test_token_refresh -q\n3 passed in 0.12s",
    "Authorization failed: 401 Unauthorized",
    "config: sk-learning-rate-scheduler-config",
    'GH_TOKEN="$GITHUB_TOKEN" gh pr list',
]
