"""The exercises at the end of each chapter: their structure, their solutions' key numbers
(from the chapters' fast runs and pinned runs, shared with tests/test_chapters.py), the claims
their prose makes, and how the handouts, the practice notebooks and the book's filter treat
the solutions."""

import math
import re
import shutil
import subprocess

import nbformat
import pytest

from isldl.source import registry
from isldl_book import markdown, notebooks
from isldl_book.run import cell_options, qmd_to_notebook
from isldl_book.structure import labels_in

EXERCISES = re.compile(r"^## Exercises \{#(sec-[\w-]+-exercises)\}$", re.MULTILINE)
# The chapters of the lab (issue #22) and chapter 8, which end with exercises; a later
# chapter may not yet.
WITH_EXERCISES = [qmd for qmd in markdown.chapters() if qmd.stem in {
    "01-hitters", "02-mnist", "03-cifar-cnn", "04-pretrained-cnn", "05-imdb-bag-of-words",
    "06-imdb-lstm", "07-nyse", "08-fitting"}]


def solutions_of(qmd):
    return [item for item in markdown.split_solutions(qmd_to_notebook(qmd).cells)
            if isinstance(item, markdown.Solution)]


# ------------------------------------------------------------------------------ structure


@pytest.mark.parametrize("qmd", WITH_EXERCISES, ids=lambda p: p.stem)
def test_every_chapter_ends_with_three_or_more_exercises_each_with_a_solution(qmd):
    text = qmd.read_text(encoding="utf-8")
    found = EXERCISES.search(text)
    assert found, f"{qmd.name} has no Exercises section"
    after = text[found.end():]
    assert not re.search(r"^## ", after, flags=re.MULTILINE), "Exercises must be the last section"
    exercises = re.findall(r"^### .*\{#(sec-[\w-]+)\}$", after, flags=re.MULTILINE)
    solutions = solutions_of(qmd)
    assert len(exercises) >= 3
    # one solution per exercise, in order, each after its own exercise's heading
    assert [s.label for s in solutions] == exercises
    for solution in solutions:
        code = [c for c in solution.cells if c.cell_type == "code"]
        assert code, solution.label  # a worked solution runs
        labels = [cell_options(c.source).get("label", "") for c in code]
        assert all(label and not label.startswith(("fig-", "tbl-")) for label in labels), labels


def test_labels_stay_unique_across_the_book():
    """Cross-reference labels are unique in the book, cell labels within a chapter, and the
    solutions' cell labels (moved together into one appendix in the PDF) in the book."""
    references, solution_cells = {}, {}
    for qmd in markdown.chapters():
        text = qmd.read_text(encoding="utf-8")
        for label in labels_in(text):
            assert label not in references, (label, qmd.name, references.get(label))
            references[label] = qmd.name
        cells = re.findall(r"^#\| label: (\S+)$", text, flags=re.MULTILINE)
        assert len(cells) == len(set(cells)), qmd.name
        for solution in solutions_of(qmd):
            for cell in solution.cells:
                label = cell_options(cell.source).get("label") if (
                    cell.cell_type == "code") else None
                if label:
                    assert label not in solution_cells, (label, qmd.name)
                    solution_cells[label] = qmd.name
    assert len(solution_cells) >= 24


# ------------------------------------------------------------------------- fast-mode numbers


def test_hitters_exercises_fast(fast_runs):
    m = fast_runs("01-hitters")
    assert m["ex1_params"] == (20 + 1) * 10 + 10 + 1
    assert math.isfinite(m["ex1_test_mae"]) and m["ex1_test_mae"] > 0
    # "its test error is still falling at the end of the budget"
    assert m["ex1_val_mae"] == sorted(m["ex1_val_mae"], reverse=True)
    # dropout raises the training error and makes it vary from mask to mask
    assert m["ex2_mse_dropout_on_mean"] > m["ex2_mse_dropout_off"]
    assert m["ex2_mse_dropout_on_sd"] > 0
    assert m["ex2_batch_mse_ratio"] > 1.5
    # the one-standard-error rule: a larger penalty, fewer predictors
    assert m["ex3_lambda_1se"] > m["ex3_lambda_min"]
    assert m["ex3_kept_1se"] < m["ex3_kept_min"]


def test_mnist_exercises_fast(fast_runs):
    m = fast_runs("02-mnist")
    assert m["ex1_params"] == (784 + 1) * 256 + (256 + 1) * 10 == 203_530
    assert m["ex1_val_accuracy"] >= 0.93  # one epoch: 0.952 on the machine that wrote this
    assert m["ex2_accuracy_dropout_off"] > m["ex2_accuracy_dropout_on"]
    confusion = m["ex3_confusion"]
    assert sum(map(sum, confusion)) == 10_000
    assert sum(confusion[d][d] for d in range(10)) / 10_000 == m["mlp_test_accuracy"]
    errors = [1 - confusion[d][d] / sum(confusion[d]) for d in range(10)]
    assert m["ex3_worst_digit"] == errors.index(max(errors))
    true, predicted = m["ex3_top_confusion"]
    assert true != predicted


def test_cifar_exercises_on_whatever_data_the_chapter_loaded(pinned_runs):
    m, _ = pinned_runs["03-cifar-cnn"]  # CIFAR-100 or, where it cannot be had, a stand-in
    assert m["ex1_block_shapes"] == [[32, 16, 16], [64, 8, 8], [128, 4, 4], [256, 2, 2],
                                     [1024]]
    assert m["ex2_saved"] == (1024 + 1) * 512 - (256 + 1) * 512 == 393_216
    assert m["ex2_params"] == m["params"] - m["ex2_saved"]
    assert m["ex2_output_shape_64"] == [1, 100]
    assert m["ex3_augmented_shape"] == [128, 3, 32, 32]
    assert m["ex3_versions"] == 2 * 9 * 9 and m["ex3_flip_twice_is_identity"]


def test_pretrained_exercises_fast(fast_runs):
    m = fast_runs("04-pretrained-cnn")
    assert m["ex1_old_head"] == 2048 * 1000 + 1000
    assert m["ex1_trainable"] == 2048 * 10 + 10
    assert m["ex1_total"] == m["resnet_params"] - m["ex1_old_head"] + m["ex1_trainable"]
    assert m["ex2_same_first_class"]["flamingo.jpg"]  # the sure one keeps its class
    first, top_three = m["ex3_first_probability"], m["ex3_top_three_probability"]
    assert all(first[i] <= top_three[i] <= 1 + 1e-6 for i in first)
    assert first["flamingo.jpg"] > 0.9
    assert m["ex3_least_sure"] == min(first, key=first.get)


def test_imdb_bag_of_words_exercises_fast(fast_runs):
    m = fast_runs("05-imdb-bag-of-words")
    kept = m["ex1_words_kept"]
    assert kept[0] <= 1 and kept[-1] == max(kept) > 100
    assert {"excellent", "great", "perfect"} & set(m["ex1_positive_words"])
    assert {"worst", "waste", "awful"} & set(m["ex1_negative_words"])
    assert m["ex2_params"] == (1000 + 1) * 16 + (16 + 1) * 16 + 17 == 16_305
    assert m["ex2_test_accuracy"] >= 0.70  # 2 epochs, 4,000 reviews: 0.749 when written
    assert m["ex3_best_epoch"] in (1, 2)
    assert m["ex3_test_final"] == m["dense_test_accuracy"]


def test_imdb_lstm_exercises_fast(fast_runs):
    m = fast_runs("06-imdb-lstm")
    assert m["ex2_gru_params"] == 3 * (32 * 32 + 32 * 32 + 2 * 32)
    assert m["ex2_lstm_params"] == 4 * (32 * 32 + 32 * 32 + 2 * 32)
    assert m["ex1_test_accuracy"] >= 0.53  # 2 epochs, 5,000 reviews: 0.569 when written
    assert m["ex3_padded_share"] > 0.8
    # the network trained on front-padded reviews fails on back-padded ones
    assert m["ex3_accuracy_front"] > m["ex3_accuracy_back"] + 0.1


def test_nyse_exercises_fast(fast_runs):
    m = fast_runs("07-nyse")
    r2 = m["ex1_lag_r2"]
    assert r2["5"] == m["ar_test_r2"]  # the chapter's own model
    assert r2["1"] < r2["2"] < r2["5"]
    assert abs(r2["15"] - r2["10"]) < 0.01  # beyond a week, the gain is tiny
    assert m["ex2_n_weights"] == 15
    assert m["ex3_params"] == (15 + 1) * 32 + 32 + 1
    # the day of the week adds more to the linear model than a hidden layer does
    assert m["ex3_test_r2"] - m["ar_test_r2"] < m["ar_day_test_r2"] - m["ar_test_r2"]


def test_fitting_exercises_fast(fast_runs):
    m = fast_runs("08-fitting")
    # the sigmoid's chain-rule factor g(1 - g), by hand, is autograd's
    assert m["ex1_autograd_max_rel"] < 1e-10
    low, high = m["ex1_sigmoid_factor_range"]
    assert 0 < low < high <= 0.25  # "never zero but at most 1/4"
    assert 0 < m["ex1_relu_active_share"] < 1
    # at 4 × 0.05 the stochastic runs diverge, gradient descent overshoots and recovers
    assert m["ex2_diverged"] == {"full batch (176)": False, "batches of 32": True,
                                 "batches of 8": True}
    assert m["ex2_gd_peak_loss"] > 2 * m["ex2_gd_start_loss"]
    assert m["ex2_gd_final_loss"] < 1.5 * m["ex2_gd_final_loss_eta_005"]
    assert 0.05 < 2 / m["ex2_curvature_start"] < 0.2  # safe at 0.05, not at 0.2
    gd = m["ex2_gd_curvature"]
    # GD's curvature falls below 2 / 0.2 within a few steps and stays there
    assert gd[0] > 10 and max(gd[5:]) < 10
    for walk in m["ex2_sgd_curvature"].values():
        assert walk[-1] > 100 * 10  # "far above 2/η = 10"
    # n = 40: the peak moves to the new threshold, the minimum stays at a handful of d
    # the page's 20 draws, or fewer where a fast run makes fewer (fast.yaml)
    assert m["ex3_reps"] == min(20, registry("fast.yaml")["double_descent_draws"])
    assert abs(m["ex3_argmax_d"] - 40) <= 3
    assert m["ex3_argmin_d"] < 15 and abs(m["ex3_argmin_d"] - m["dd_argmin_d"]) <= 3
    assert m["ex3_test_error_min"] < m["dd_test_error_min"]


# ------------------------------------------------------------ the prose's claims, pinned


def test_the_solutions_claims_hold_for_the_pinned_fits(pinned_runs):
    hitters = pinned_runs["01-hitters"][0]
    assert hitters["ex1_test_mae"] > max(hitters["nn_test_mae"], hitters["lasso_test_mae"])
    assert hitters["ex1_val_mae"] == sorted(hitters["ex1_val_mae"], reverse=True)
    assert hitters["ex3_test_mae_1se"] > hitters["lasso_test_mae"]

    mnist = pinned_runs["02-mnist"][0]
    confusion = mnist["ex3_confusion"]
    errors = [1 - confusion[d][d] / sum(confusion[d]) for d in range(10)]
    assert errors[0] < sum(errors) / 10  # "a 0 is rarely missed"
    assert sorted(mnist["ex3_top_confusion"]) in ([4, 9], [3, 5], [2, 7], [7, 9])
    assert abs(mnist["ex1_val_accuracy"] - mnist["ex1_two_layer_val_accuracy"]) < 0.01
    assert mnist["ex1_test_accuracy"] > mnist["logistic_test_accuracy"] + 0.03

    bag = pinned_runs["05-imdb-bag-of-words"][0]
    # "within a fraction of a point" of the 10,000-word network
    assert abs(bag["dense_test_accuracy"] - bag["ex2_test_accuracy"]) < 0.01
    assert bag["ex3_test_at_best"] > bag["ex3_test_final"]

    lstm = pinned_runs["06-imdb-lstm"][0]
    assert 0 < lstm["short_test_accuracy"] - lstm["ex1_test_accuracy"] < 0.08
    assert lstm["ex3_accuracy_front"] > lstm["ex3_accuracy_back"] + 0.1

    nyse = pinned_runs["07-nyse"][0]
    assert nyse["ex2_weight_correlation"] > 0.85
    assert (nyse["ex3_test_r2"] - nyse["ar_test_r2"]
            < nyse["ar_day_test_r2"] - nyse["ar_test_r2"])

    fitting = pinned_runs["08-fitting"][0]
    assert fitting["ex1_autograd_max_rel"] < 1e-10
    assert fitting["ex3_reps"] == 20
    assert abs(fitting["ex3_argmax_d"] - 40) <= 3
    assert abs(fitting["ex3_argmin_d"] - fitting["dd_argmin_d"]) <= 3
    assert fitting["ex3_test_error_min"] < fitting["dd_test_error_min"]


# ------------------------------------------------------- handouts and practice notebooks


def test_split_solutions_keeps_the_text_around_a_solution():
    cells = [
        nbformat.v4.new_markdown_cell("### Ex {#sec-x-ex}\n\nDo it.\n\n::: {.solution}\nSo."),
        nbformat.v4.new_code_cell("1 + 1"),
        nbformat.v4.new_markdown_cell("::: {.callout-note}\nInner.\n:::\n\nMore.\n:::\n\nAfter."),
    ]
    kept = markdown.split_solutions(cells)
    assert [type(k).__name__ for k in kept] == ["NotebookNode", "Solution", "NotebookNode"]
    assert kept[0].source == "### Ex {#sec-x-ex}\n\nDo it." and kept[2].source == "After."
    solution = kept[1]
    assert (solution.heading, solution.label) == ("Ex", "sec-x-ex")
    assert [c.source for c in solution.cells] == [
        "So.", "1 + 1", "::: {.callout-note}\nInner.\n:::\n\nMore."]
    with pytest.raises(ValueError, match="not closed"):
        markdown.split_solutions(cells[:2])


def test_practice_notebooks_keep_the_exercises_and_drop_the_solutions(tmp_path):
    assert len(WITH_EXERCISES) == 8
    for qmd in WITH_EXERCISES:
        practice = notebooks.practice_notebook(qmd)
        text = "\n".join(c.source for c in practice.cells)
        assert ".solution" not in text and ":::" not in text.replace("::: {.callout", "")
        solutions = solutions_of(qmd)
        prompts = [c for c in practice.cells
                   if c.source.strip() == notebooks.SOLUTION_PROMPT.strip()]
        assert len(prompts) == len(solutions) >= 3, qmd.name
        for solution in solutions:
            assert solution.heading in text  # the exercise is kept
            for cell in solution.cells:  # its worked solution is not
                if cell.cell_type == "code":
                    body = re.sub(r"^#\|.*\n?", "", cell.source, flags=re.MULTILINE).strip()
                    assert body not in text, (qmd.name, body[:60])


# ------------------------------------------------------------------ the Quarto filter

BOOK = {
    "_quarto.yml": """project:
  type: book
book:
  title: Tiny
  chapters: [index.qmd, a.qmd, b.qmd]
  appendices: [extra.qmd]
filters:
  - path: solutions.lua
    at: pre-ast
format:
  html:
    number-sections: true
  pdf:
    documentclass: scrreprt
    number-sections: true
""",
    "index.qmd": "# Preface {.unnumbered}\n\nHello.\n",
    "a.qmd": "# Chapter A {#sec-a}\n\n## Exercises {#sec-a-exercises}\n\n"
             "### First {#sec-a-ex-first}\n\nDo the first.\n\n::: {.solution}\n"
             "Answer one, $x^2$.\n:::\n\n### Second {#sec-a-ex-second}\n\nDo the second.\n\n"
             "::: {.solution}\nAnswer two.\n:::\n",
    "b.qmd": "# Chapter B {#sec-b}\n\n## Exercises {#sec-b-exercises}\n\n"
             "### Third {#sec-b-ex-third}\n\nDo the third.\n\n::: {.solution}\n"
             "Answer three, see @sec-a-ex-first.\n:::\n",
    "extra.qmd": "# Extra {#sec-extra}\n\nAn appendix of the book's own.\n",
}


@pytest.mark.tex
@pytest.mark.skipif(not (shutil.which("quarto") and shutil.which("xelatex")),
                    reason="needs Quarto and XeLaTeX")
def test_the_filter_folds_solutions_in_html_and_moves_them_to_an_appendix_in_pdf(
        root, tmp_path):
    for name, text in BOOK.items():
        (tmp_path / name).write_text(text)
    shutil.copy(root / "filters" / "solutions.lua", tmp_path)
    def render(target):  # a whole book's render empties _book/ first
        subprocess.run(["quarto", "render", "--to", target], cwd=tmp_path, check=True,
                       capture_output=True)

    render("html")
    html = (tmp_path / "_book" / "a.html").read_text()
    assert html.count("callout-tip") >= 2 and "callout-collapse collapse" in html
    assert "Answer one" in html and html.index("Do the first") < html.index("Answer one")
    render("pdf")
    pdf = next((tmp_path / "_book").glob("*.pdf"))
    text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True,
                                   text=True, check=True).stdout.split())
    body, _, appendix = text.rpartition("B Solutions")
    assert "Answer" not in body.split("Table of contents")[-1].split("Extra")[0]
    assert "Solution: see Section B.1.1." in body and "Solution: see Section B.2.1." in body
    for answer in ("Answer one", "Answer two", "Answer three, see Section 1.1.1"):
        assert answer in appendix
    assert "Exercise: Section 1.1.2." in appendix
