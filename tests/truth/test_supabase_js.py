"""supabase-js client calls checked against the declarations in the project's node_modules."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fleetnb.truth import CheckReport, check_paths
from fleetnb.truth.supabase_js import find_declarations, load_declarations

TYPES = Path(__file__).parent / "supabase_js_types"
# Unpacked by scripts/install-test-deps for the evaluation set: the full 2.119.1 packages.
REAL = Path(__file__).parent / "eval" / ".npm"
HEAD = (
    "import { createClient } from '@supabase/supabase-js'\n"
    "const supabase = createClient(process.env.URL!, process.env.KEY!)\n"
)
CALLS = (
    "await supabase.auth.signIn({ email })\n"
    "const { data } = await supabase.auth.session()\n"
    "await supabase.auth.signInWithPassword({ email, password })\n"
    "await supabase.auth.getSession()\n"
    "await supabase.auth.admin.listUsers()\n"
    "await supabase.auth.admin.deleteUsr(id)\n"
    "await supabase.auth.mfa.enroll({ factorType: 'totp' })\n"
    "supabase.auth.onAuthStateChange((event, session) => {})\n"
    "supabase.channel('room').subscribe()\n"
    "await supabase.functions.invoke('hello')\n"
)
EXPECTED = [
    (3, "unknown_method", "signInWithPassword"),
    (4, "unknown_method", "getSession"),
    (8, "unknown_method", "deleteUser"),
]


def project_with(tmp_path: Path, packages: dict[str, Path]) -> Path:
    scope = tmp_path / "web" / "node_modules" / "@supabase"
    scope.mkdir(parents=True)
    for name, source in packages.items():
        shutil.copytree(source, scope / name)
    app = tmp_path / "web" / "src" / "app.ts"
    app.parent.mkdir()
    app.write_text(HEAD + CALLS)
    return app


def found(report: CheckReport) -> list[tuple[int, str, str | None]]:
    return [(f.line, f.kind, f.suggestion) for f in report.findings]


def test_invented_methods_are_flagged_with_the_v2_name(tmp_path: Path) -> None:
    app = project_with(
        tmp_path, {"supabase-js": TYPES / "supabase-js", "auth-js": TYPES / "auth-js"}
    )
    report = check_paths([app])
    assert found(report) == EXPECTED
    assert report.findings[0].api == "supabase.auth.signIn"
    assert "GoTrueAdminApi" in report.findings[2].message
    # functions-js is not installed: functions.invoke cannot be followed
    assert (report.calls_checked, report.calls_unresolved) == (9, 1)


def test_without_auth_js_the_auth_calls_are_unresolved(tmp_path: Path) -> None:
    app = project_with(tmp_path, {"supabase-js": TYPES / "supabase-js"})
    report = check_paths([app])
    assert report.findings == []
    assert report.calls_checked == 1  # supabase.channel: declared on SupabaseClient itself


def test_without_node_modules_everything_is_unresolved(tmp_path: Path) -> None:
    app = tmp_path / "app.ts"
    app.write_text(HEAD + CALLS)
    assert find_declarations(app) is None
    report = check_paths([app])
    assert (report.findings, report.calls_checked) == ([], 0)
    assert report.calls_unresolved == 10


def test_declarations_follow_aliases_and_merge_bases() -> None:
    index = load_declarations(TYPES)
    assert index.aliases["AuthClient"] == "GoTrueClient"
    client = index.find("SupabaseClient")
    assert client is not None
    assert (client.members["auth"], client.members["functions"]) == (
        "SupabaseAuthClient",
        "FunctionsClient",
    )


@pytest.mark.skipif(
    not (REAL / "supabase-js" / "package").is_dir(),
    reason="the npm packages are unpacked by scripts/install-test-deps",
)
def test_the_real_packages(tmp_path: Path) -> None:
    app = project_with(
        tmp_path,
        {"supabase-js": REAL / "supabase-js" / "package", "auth-js": REAL / "auth-js" / "package"},
    )
    assert found(check_paths([app])) == EXPECTED
