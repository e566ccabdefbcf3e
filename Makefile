# Animated Books: the commands a developer types. `make install` is idempotent and
# fast when nothing changed; every other target runs it first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch goes in first and pinned (the version locks/refresh.py names): left to the
# resolver, it would come with whatever CUDA packages the day brings. Which build:
#   TORCH_BUILD=cpu   the CPU build (these machines have it on disk; elsewhere add
#                     TORCH_INDEX=https://download.pytorch.org/whl/cpu)
#   TORCH_BUILD=cuda  the CUDA 12.8 build the job image installs, from PyTorch's index,
#                     so the `gpu` tests run (they skip, saying so, without CUDA)
#   TORCH_BUILD=auto  (the default) cuda where nvidia-smi sees a GPU, else cpu
TORCH_VERSION := 2.13.0
TORCH_BUILD ?= auto
ifeq ($(TORCH_BUILD),auto)
TORCH_BUILD := $(if $(shell nvidia-smi -L 2>/dev/null),cuda,cpu)
endif
ifeq ($(TORCH_BUILD),cuda)
TORCH_INDEX ?= https://download.pytorch.org/whl/cu128
endif
TORCH ?= torch==$(TORCH_VERSION)$(if $(TORCH_INDEX), --index-url $(TORCH_INDEX))
STAMP := $(VENV)/.installed
CHECKOV := .venv-checkov/bin/checkov

# Tests never reach a model hub or the internet.
export HF_HUB_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1

.PHONY: install lock run bot weights test lint render bench bench-gpu mutation eval-dialogue translations clean provider-schema axe

# The Russian (and any other) UI catalogues, compiled from their .po sources.
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard frontend_service/translations/*/LC_MESSAGES/messages.po))

install: $(STAMP) $(CATALOGUES)

%.mo: %.po $(STAMP)
	$(BIN)/pybabel -q compile -i $< -o $@

# After changing UI text: refresh the catalogues, then translate the new entries.
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _ -k N_ -k Nn_:1,2 -k NotFound -k NotReady -k Forbidden -k SignInRequired -k NotInPlan -k Unacceptable --no-location -w 100 -o frontend_service/translations/messages.pot .
	$(BIN)/pybabel update -i frontend_service/translations/messages.pot -d frontend_service/translations -w 100 --ignore-obsolete

# The locked versions (locks/dev.txt, hash-checked), the same the images install; then
# the project itself, editable, with nothing more resolved.
$(STAMP): pyproject.toml Makefile locks/dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r locks/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# Resolve every lock again (uv, from PyPI) after changing pyproject.toml's dependencies.
lock: install
	$(BIN)/python locks/refresh.py

# The whole product on this machine: the website, its local render worker, SQLite,
# a folder for clips, DuckDB for usage. No account, no key, no network.
PORT ?= 8080
run: export ANIMBOOKS_DATA_DIR ?= $(CURDIR)/.data
run: install
	@echo "Animated Books: http://127.0.0.1:$(PORT)  (data in $(ANIMBOOKS_DATA_DIR); Ctrl-C stops it)"
	$(BIN)/gunicorn --config python:frontend_service.gunicorn_conf --bind 127.0.0.1:$(PORT) \
		'frontend_service:create_app()'

# The Telegram bot by long polling, beside `make run` over the same data folder (TELEGRAM_BOT_TOKEN
# from @BotFather; without it the command says so). On Google Cloud the web service takes the
# bot's updates by webhook instead (README: The Telegram bot).
bot: export ANIMBOOKS_DATA_DIR ?= $(CURDIR)/.data
bot: install
	$(BIN)/python -m frontend_service.telegram

# Real weights, where the model hub can be reached: Stable Diffusion 1.5, the AnimateDiff-Lightning
# adapter the presets use and the local dialogue model (about 6 GB), each file checked against the
# checksum the hub publishes, into the data folder (infra/weights.py). A second run fetches only
# what is missing or damaged. `make run` then renders real clips and drafts with the local model.
weights: export HF_HUB_OFFLINE := 0
weights: export ANIMBOOKS_DATA_DIR ?= $(CURDIR)/.data
weights: install
	$(BIN)/python -m infra.weights

# axe-core, the accessibility checker the browser tests inject into every page: one pinned
# version from npm, its tarball checked against the integrity npm publishes for it, into .axe/.
# (Defined above `test`, whose prerequisites make expands as it reads them.)
AXE_VERSION := 4.10.3
AXE_INTEGRITY := sha512-Xm7bpRXnDSX2YE2YFfBk2FnF0ep6tmG7xPh8iHee8MIcrgq762Nkce856dYtJYLkuIoYZvGfTs/PbZhideTcEg==
AXE := .axe/axe-core-$(AXE_VERSION).min.js

test: lint $(CHECKOV) provider-schema $(AXE)
	$(BIN)/python -m pytest

axe: $(AXE)
$(AXE):
	rm -rf .axe/pack && mkdir -p .axe/pack
	cd .axe/pack && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null
	test "sha512-$$(openssl dgst -sha512 -binary .axe/pack/axe-core-$(AXE_VERSION).tgz | base64 -w0)" = "$(AXE_INTEGRITY)" \
		|| { echo "axe-core $(AXE_VERSION): the tarball does not match its pinned integrity"; exit 1; }
	tar -xzf .axe/pack/axe-core-$(AXE_VERSION).tgz -C .axe/pack package/axe.min.js
	mv .axe/pack/package/axe.min.js $@ && rm -rf .axe/pack

# The terraform providers' schemas, at both ends of each version constraint, from the
# CDK for Terraform packages on npm, cached in .provider-schema/ (a no-op when cached).
provider-schema: install
	$(BIN)/python tests/deploy/provider_schema.py build

# checkov for terraform/, in a virtual environment of its own: it and python-hcl2
# install the same module name.
$(CHECKOV):
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install --quiet --upgrade pip
	.venv-checkov/bin/python -m pip install --quiet "checkov==3.3.30"

# Style and types: ruff's lint and format, and mypy over the code and its tests.
lint: install
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .
	$(BIN)/python -m mypy

# Render one clip: make render [PROMPT="a lighthouse in a storm" | STORYBOARD=file.json]
#                              [PRESET=draft|standard|high] [OUT=clip.mp4]
PROMPT ?= Raskolnikov crosses the Neva bridge at dusk, wind over the water
PRESET ?= standard
OUT ?= clip.mp4
SOURCE = $(if $(STORYBOARD),--storyboard "$(STORYBOARD)",--prompt "$(PROMPT)")
render: install
	$(BIN)/python -m animate_job render $(SOURCE) --preset $(PRESET) --out "$(OUT)"

bench: install
	$(BIN)/python tests/benchmarks/bench_render_cpu.py
	$(BIN)/python tests/benchmarks/bench_web.py
	$(BIN)/python tests/benchmarks/bench_reports.py
	$(BIN)/python tests/benchmarks/bench_load.py
	$(BIN)/python tests/benchmarks/bench_first_clip.py
	$(BIN)/python tests/benchmarks/bench_reel.py

# The dialogue over ~20 book scenes: against the real API when OPENAI_API_KEY is set,
# else (and in CI) against the local fake of the API. Figures in bench-results/eval-dialogue.json.
eval-dialogue: install
	$(BIN)/python tests/eval/eval_dialogue.py

# Small wrong changes to the core, one at a time (mutmut for the Python, tests/mutation for the
# views' SQL): prints the score per module and the survivors. Not in `make test`: it takes
# about half an hour on two quiet cores. Incremental: a second run tests only what changed.
# mutmut forks each mutant's run from a process whose tests already ran torch: with OpenMP's
# thread pool started there, a forked child waits forever at its first parallel op (libgomp is
# not fork-safe), so torch gets one thread.
mutation: install
	HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 $(BIN)/mutmut run --max-children 2; status=$$?; [ $$status -eq 0 ] || exit $$status
	$(BIN)/python tests/mutation/score.py; python=$$?; \
	HF_HUB_OFFLINE=1 $(BIN)/python tests/mutation/mutate_views.py; sql=$$?; \
	[ $$python -eq 0 ] && [ $$sql -eq 0 ]

# On a machine with a CUDA GPU: full-size architecture, random weights, timing only.
bench-gpu: install
	$(BIN)/python tests/benchmarks/bench_render_gpu.py

clean:
	rm -rf $(VENV) .venv-checkov .provider-schema .axe .pytest_cache .ruff_cache *.egg-info mutants
