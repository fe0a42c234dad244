# The two commands of README.md. Each one sets up everything it needs first (scripts/bootstrap.sh).
PY := .venv/bin/python
.PHONY: demo test bootstrap lint lock bench clean

demo: bootstrap
	$(PY) main.py demo

test: bootstrap lint
	$(PY) -m pytest

bootstrap:
	@bash scripts/bootstrap.sh

lint:
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy .

bench: bootstrap
	$(PY) bench/import_bench.py
	$(PY) bench/sqlite_floor.py
	$(PY) bench/compliance_bench.py
	$(PY) bench/dialer_throughput.py
	$(PY) bench/vicidial_emulation.py
	$(PY) bench/pacing_sim.py

lock: bootstrap
	{ echo '# Every package the venv holds, pinned (pip install -c constraints.txt). Regenerate with `make lock`.'; \
	  $(PY) -m pip freeze --exclude-editable | sort -f; } > constraints.txt

clean:
	rm -rf .venv var .mypy_cache .ruff_cache .pytest_cache
