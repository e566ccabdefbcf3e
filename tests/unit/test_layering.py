"""The design's rooms stay apart: infra needs neither torch nor Flask."""

import subprocess
import sys

from tests.conftest import ROOT


def test_infra_imports_neither_torch_nor_flask():
    check = (
        "import sys, infra.contract, infra.presets, infra.prompt_tokens, infra.settings; "
        "heavy = sorted({'torch', 'diffusers', 'transformers', 'flask'} & set(sys.modules)); "
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == ""


def test_the_cli_answers_help_without_loading_torch():
    check = (
        "import sys, contextlib, io\n"
        "from animate_job.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['render', '--help'])\n"
        "print('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "False"
