# Two commands for users: `make notebook` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell md5sum requirements.txt | cut -c1-12)
SHARED_IMAGES := $(abspath ../shared/data/imagenet)
# Offline image source for tests: ../shared beside the clone (CI), unless the user set one.
export HW3_IMAGE_DIR ?= $(if $(wildcard $(SHARED_IMAGES)/manifest.tsv),$(SHARED_IMAGES),)

.PHONY: venv test notebook notebook-offline surrogate bench ground-truth clean-cache

venv: $(STAMP)
$(STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.txt 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/python -c "import hw3_env, theano, keras, nbval, papermill"
	@rm -f $(VENV)/.installed-*; touch $@

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider tests
	$(BIN)/python -m pytest -q -p no:cacheprovider --nbval-lax hw3_explain.ipynb

notebook: $(STAMP)
	$(BIN)/papermill --log-level WARNING hw3_explain.ipynb hw3_explain.ipynb -p WORLD imagenet

notebook-offline: $(STAMP)
	$(BIN)/papermill --log-level WARNING hw3_explain.ipynb hw3_explain.ipynb -p WORLD synthetic

surrogate: $(STAMP)
	$(BIN)/python train_surrogate.py

ground-truth: $(STAMP)
	$(BIN)/python ground_truth.py

bench: $(STAMP)
	$(BIN)/python -m pip install -q -r benchmarks/requirements.txt 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/python benchmarks/run.py

clean-cache:
	rm -rf .theano data/cache
