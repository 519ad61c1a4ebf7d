# Two commands for users: `make notebook` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | md5sum | cut -c1-12)
SHARED_IMAGES := $(abspath ../shared/data/imagenet)
# Offline image source for tests: ../shared beside the clone (CI), unless the user set one.
export HW3_IMAGE_DIR ?= $(if $(wildcard $(SHARED_IMAGES)/manifest.tsv),$(SHARED_IMAGES),)
# Every notebook with saved outputs; each is executed from its Jupytext source (notebooks/*.py).
NOTEBOOKS := hw3_explain.ipynb $(sort $(wildcard notebooks/*.ipynb))
EXECUTE := $(BIN)/python -m notebook_tools.execute
# `make run NB=notebooks/x.ipynb WORLD=synthetic` re-executes any one notebook.
NB ?= hw3_explain.ipynb
WORLD ?= synthetic

.PHONY: venv test notebook notebook-offline notebooks-offline run compare surrogate bench ground-truth clean-cache

venv: $(STAMP)
$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.txt 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e . --config-settings editable_mode=compat 2>&1 | grep -v "^WARNING: Location" || true
	cd / && $(CURDIR)/$(BIN)/python -c "import hw3_env, Explanation, theano_ops, notebook_tools.execute, theano, keras, nbval, papermill, jupytext"
	@rm -f $(VENV)/.installed-*; touch $@

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=12 tests
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=8 --nbval-lax $(NOTEBOOKS)

# Each target runs into a temporary file: a failed run leaves the saved notebook as it was.
notebook: $(STAMP)
	$(EXECUTE) hw3_explain.ipynb -p WORLD imagenet

notebook-offline: $(STAMP)
	$(EXECUTE) hw3_explain.ipynb -p WORLD synthetic

notebooks-offline: $(STAMP)
	@for nb in $(NOTEBOOKS); do $(EXECUTE) $$nb -p WORLD synthetic || exit 1; done

run: $(STAMP)
	$(EXECUTE) $(NB) -p WORLD $(WORLD)

# Every explanation method graded against the synthetic world's ground truth.
compare: $(STAMP)
	$(EXECUTE) notebooks/method_comparison.ipynb -p WORLD $(WORLD)

surrogate: $(STAMP)
	$(BIN)/python -m synthetic_world.train_surrogate

# The explainability report's second network: the same layout on a scene-level label.
.PHONY: surrogate-background
surrogate-background: $(STAMP)
	$(BIN)/python -m synthetic_world.train_surrogate --task stripes --epochs 5 \
		--n-train-per-class 240 --twin-weight 1 --batch-size 8 \
		--out models/surrogate_background.h5

ground-truth: $(STAMP)
	$(BIN)/python -m evaluation.ground_truth

bench: $(STAMP)
	$(BIN)/python -m pip install -q -r benchmarks/requirements.txt 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/python benchmarks/run.py

clean-cache:
	rm -rf .theano data/cache

# CSEP 590B HW2: occlusion and SmoothGrad against Captum (torch 2.13 + captum
# in the product venv, as `make bench`). Each bench target alone prints its section;
# only `make bench-all` writes benchmarks/RESULTS.md.
.PHONY: bench-hw2
bench-hw2: $(STAMP)
	$(BIN)/python -m pip install -q -r benchmarks/requirements.txt 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/python benchmarks/bench_hw2.py
# Zennit (LRP) and pytorch-grad-cam (CAMs) need torchvision, which does
# not load beside the product venv's CPU torch: they share one benchmark venv (pip takes torch
# and torchvision from the local disk when they are there; about 5.5 GB). BENCH_TV_PYTHON
# points the benchmarks at any other interpreter that has them.
BENCH_TV_VENV := benchmarks/.venv-tv
BENCH_TV_PYTHON ?= $(BENCH_TV_VENV)/bin/python
.PHONY: bench-tv-venv bench-lrp bench-cam

bench-tv-venv:
	@test -x $(BENCH_TV_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_TV_VENV)
	$(BENCH_TV_VENV)/bin/python -m pip install -q --disable-pip-version-check torch==2.14.1 torchvision==0.29.1 zennit==0.5.1 grad-cam==1.5.7 numpy

bench-lrp: $(STAMP)
	BENCH_TV_PYTHON=$(BENCH_TV_PYTHON) $(BIN)/python benchmarks/bench_lrp.py

bench-cam: $(STAMP)
	BENCH_TV_PYTHON=$(BENCH_TV_PYTHON) $(BIN)/python benchmarks/bench_cam.py

# Every benchmark in one sitting (hours: keep the CPU idle); writes benchmarks/RESULTS.md
# whole at the end. BENCH_ARGS passes options, e.g. BENCH_ARGS="--skip notebook".
.PHONY: bench-all
bench-all: $(STAMP) bench-tv-venv
	$(BIN)/python -m pip install -q -r benchmarks/requirements.txt 2>&1 | grep -v "^WARNING: Location" || true
	BENCH_TV_PYTHON=$(BENCH_TV_PYTHON) $(BIN)/python benchmarks/bench_all.py $(BENCH_ARGS)

# Course staff: the student starter generated from the solution, the otter-grader
# autograder (Gradescope zip) and offline grading of a folder of submissions. Otter runs in
# its own venv (course_staff/requirements.txt); student code runs in the product venv.
OTTER_VENV := .venv-otter
OTTER_STAMP := $(OTTER_VENV)/.installed-$(shell cat course_staff/requirements.txt | md5sum | cut -c1-12)
STUDENT_DIR ?= student
SUBMISSIONS ?= submissions
GRADED ?= graded
.PHONY: otter-venv student autograder grade

otter-venv: $(OTTER_STAMP)
$(OTTER_STAMP): course_staff/requirements.txt
	@test -x $(OTTER_VENV)/bin/python || $(PYTHON) -m venv $(OTTER_VENV)
	$(OTTER_VENV)/bin/python -m pip install -q --disable-pip-version-check -r course_staff/requirements.txt 2>&1 | grep -v "^WARNING: Location" || true
	@rm -f $(OTTER_VENV)/.installed-*; touch $@

student: $(STAMP)
	$(BIN)/python -m course_staff.student $(STUDENT_DIR)

autograder: $(STAMP) $(OTTER_STAMP)
	$(OTTER_VENV)/bin/python -m course_staff.autograder build dist/autograder.zip

grade: autograder
	$(OTTER_VENV)/bin/python -m course_staff.autograder grade $(SUBMISSIONS) $(GRADED)
