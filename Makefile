# Every target refreshes .venv itself, so each one works on a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The interpreter .venv was built with (path and version); a different one rebuilds .venv.
PYID   := $(VENV)/.interpreter

.PHONY: venv demo test lint run bench lock clean FORCE

venv: $(STAMP)

# Refuse an interpreter older than 3.11 with a clear message (before anything is created), and throw
# .venv away when it was built with another interpreter than $(PYTHON) is now. The file is rewritten
# only when the interpreter changed, so an unchanged one leaves the install stamp up to date.
$(PYID): FORCE
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; Microvoice needs Python 3.11 or newer (make PYTHON=python3.12 ...)" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "error: Microvoice needs Python 3.11 or newer, but $(PYTHON) is Python %d.%d; install a newer one and run make PYTHON=python3.12 (or its path)" % sys.version_info[:2])'
	@id="$$($(PYTHON) -c 'import sys; print(sys.executable, sys.version.split()[0])')"; \
	if [ "$$(cat $@ 2>/dev/null)" != "$$id" ]; then \
		if [ -d $(VENV) ]; then echo "rebuilding $(VENV) for $$id"; rm -rf $(VENV); fi; \
		mkdir -p $(VENV) && echo "$$id" > $@; \
	fi

$(STAMP): $(PYID) pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check "uv>=0.4"
	$(BIN)/uv pip install --python $(BIN)/python -q --compile-bytecode -r requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python -q --no-deps -e .
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m bot demo

# Four workers: most e2e tests wait on sockets and subprocesses, so two cores serve four of them. Each
# module's tests run on one worker (--dist loadscope), so a module's shared fixtures (simulated
# communities, databases) are built once, not once per worker: a tenth to a seventh less CPU time and
# wall time than spreading them (measured back to back, twice).
# Bytecode is cached even where PYTHONDONTWRITEBYTECODE is set (as in many containers): otherwise every
# worker and every bot process the tests start compiles the same sources again, a third of the run.
test: $(STAMP) lint
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n 4 --dist loadscope

lint: $(STAMP)
	$(BIN)/ruff check .

run: $(STAMP)
	$(BIN)/python -m bot run

bench: $(STAMP)
	$(BIN)/python -m bench

# Re-resolve the pinned dependency set after editing pyproject.toml.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev -q -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
