"""What the tests read of each chapter's run, by name, without a cell of the page that exists
for the tests alone.

- `FROM_TABLES`: values that the page's comparison tables show, read from the rows that the
  run records (`comparison_rows`), by the row's source key or, where it has none, its label.
- `VALUES`: the rest, each a Python expression evaluated in the chapter's namespace after its
  last cell (`run_chapter(..., values=...)`).
"""

from pathlib import Path

from isldl_book.run import run_chapter

VALUES = {
    "01-hitters": {
        "nn_params": "isldl.n_parameters(hitters_nn)",
        "lasso_solver": "cv.solver",
        "lasso_stopping": "stopping",
        "ex1_params": "isldl.n_parameters(narrow)",
        "ex1_test_mae": "narrow_mae",
        "ex1_val_mae": "still_falling.tolist()",
        "ex2_mse_dropout_off": "mse_off",
        "ex2_mse_dropout_on_mean": "mse_on.mean()",
        "ex2_mse_dropout_on_sd": "mse_on.std()",
        "ex2_batch_mse_ratio": "batch_mse.max() / batch_mse.min()",
        "ex3_lambda_min": "cv.lambda_min",
        "ex3_lambda_1se": "lambda_1se",
        "ex3_kept_min": "kept_min",
        "ex3_kept_1se": "kept_1se",
        "ex3_test_mae_1se": "mae_1se",
    },
    "02-mnist": {
        "ex1_params": "isldl.n_parameters(one_layer)",
        "ex1_val_accuracy": "one_layer_val",
        "ex1_two_layer_val_accuracy": "two_layer_val",
        "ex1_test_accuracy": "one_layer_fit.metrics['test_accuracy']",
        "ex2_accuracy_dropout_off": "accuracy_off",
        "ex2_accuracy_dropout_on": "accuracy_on",
        "ex3_confusion": "confusion",
        "ex3_worst_digit": "int(error_rate.argmax())",
        "ex3_top_confusion": "[int(true_digit), int(mistaken_for)]",
    },
    "03-cifar-cnn": {
        "history_columns": "list(cnn_fit.history.columns)",
        "seconds_per_epoch": "seconds_per_epoch",
        "precision": "precision",
        "ex1_block_shapes": "block_shapes",
        "ex2_params": "isldl.n_parameters(averaged)",
        "ex2_saved": "saved",
        "ex2_output_shape_64": "list(larger.shape)",
        "ex3_augmented_shape": "list(augmented.shape)",
        "ex3_versions": "versions",
        "ex3_flip_twice_is_identity": "bool(torch.equal(flipped_twice, batch))",
    },
    "04-pretrained-cnn": {
        "mobilenet_top1": "mobilenet_top[mobilenet_top['rank'] == 1]"
                          ".set_index('image')['class'].to_dict()",
        "resnet_available": "resnet_top is not None",
        "mobilenet_agrees_on": "agreement['MobileNetV2 int8']",
        "ex1_old_head": "old_head",
        "ex1_trainable": "trainable",
        "ex1_total": "total",
        "ex2_same_first_class": "same_class.to_dict()",
        "ex3_first_probability": "certainty['first'].to_dict()",
        "ex3_top_three_probability": "certainty['top_three'].to_dict()",
        "ex3_least_sure": "least_sure",
    },
    "05-imdb-bag-of-words": {
        "lasso_solver": "path.solver",
        "sparse_speedup": "speedup",
        "sparse_dense_same_path": "float(same_path)",
        "ex1_positive_words": "positive_words",
        "ex1_negative_words": "negative_words",
        "ex1_words_kept": "words_kept",
        "ex2_params": "isldl.n_parameters(small_vocabulary)",
        "ex2_test_accuracy": "small_accuracy",
        "ex3_best_epoch": "best_epoch",
        "ex3_test_at_best": "test_by_epoch[best_epoch]",
        "ex3_test_final": "test_by_epoch.iloc[-1]",
    },
    "06-imdb-lstm": {
        "lstm_params": "isldl.n_parameters(lstm)",
        "seconds_per_epoch": "seconds_per_epoch",
        "ex1_test_accuracy": "words_100_accuracy",
        "ex1_train_seconds": "words_100_fit.train_seconds",
        "ex2_gru_params": "gru_params",
        "ex2_lstm_params": "lstm_layer_params",
        "ex3_padded_share": "padded_shorter",
        "ex3_accuracy_front": "accuracy_front",
        "ex3_accuracy_back": "accuracy_back",
        "optimiser_points_apart": "apart.to_dict()",
        "optimiser_seed_spread": "spread.to_dict()",
        "optimiser_seed_matters_more": "bool(seed_matters_more)",
        "optimiser_all_reach_87": "bool(all_reach)",
    },
    "07-nyse": {
        "ex1_lag_r2": "{str(k): v for k, v in lag_r2.items()}",
        "ex2_weight_correlation": "weight_correlation",
        "ex2_largest_gap": "largest_gap",
        "ex2_n_weights": "len(weights)",
        "ex3_params": "isldl.n_parameters(lags_only)",
        "ex3_test_r2": "r2(no_day_fit)",
    },
    "08-fitting": {
        "gradient_parameters": "sum((v.size for v in theta.values()))",
        "gradient_autograd_max_rel": "autograd_max",
        "gradient_differences_max_rel": "differences_max",
        "sgd_loss_50_epochs": "{b: summary.loc[b, 'after 50 epochs'] for b in batch_sizes}",
        "sgd_loss_gd_seconds": "{b: summary.loc[b, \"in GD's time\"] for b in batch_sizes}",
        "sgd_step_seconds": "{b: step_cost[b] for b in batch_sizes}",
        "sgd_final_loss": "{f'{b}, eta={eta}': value for (eta, b), value in runs.groupby("
                          "['eta', 'batches'], sort=False)['loss'].last().items()}",
        "dropout_test_accuracy": "{f'{p:g}': a for p, a in accuracy['dropout'].items()}",
        "l2_test_accuracy": "{f'{lam:g}': a for lam, a in accuracy['l2'].items()}",
        "regularisation_train_seconds": "train_seconds",
        "dd_reps": "int(sweep['rep'].nunique())",
        "dd_argmin_d": "int(errors['test_mse'].idxmin())",
        "dd_test_error_min": "errors['test_mse'].min()",
        "dd_test_error_at_n": "errors['test_mse'][n]",
        "dd_test_error_peak": "errors['test_mse'].max()",
        "dd_test_error_at_max_d": "errors['test_mse'][max(ds)]",
        "dd_train_error_beyond_n": "errors.loc[n:, 'train_mse'].max()",
        "dd_test_error_worst": "sweep['test_mse'].max()",
        "claims": "{key: bool(claim[-1]) for key, claim in claims.items()}",
        "ex1_autograd_max_rel": "max(sigmoid_check.values())",
        "ex1_relu_active_share": "relu_active",
        "ex1_sigmoid_factor_range": "[sigmoid_factor.min(), sigmoid_factor.max()]",
        "ex2_diverged": "{label: not np.isfinite(curve).all() for label, curve in large.items()}",
        "ex2_gd_start_loss": "large[full][0]",
        "ex2_gd_peak_loss": "np.max(large[full])",
        "ex2_gd_final_loss": "large[full][-1]",
        "ex2_gd_final_loss_eta_005": "gd_005.iloc[-1]",
        "ex2_curvature_start": "curvature_start",
        "ex2_gd_curvature": "gd_walk['curvature'].tolist()",
        "ex2_sgd_curvature": "{label: walk.tolist() for label, walk in walks.items()}",
        "ex3_reps": "int(sweep_40['rep'].nunique())",
        "ex3_argmax_d": "int(test_40.idxmax())",
        "ex3_argmin_d": "int(test_40.idxmin())",
        "ex3_test_error_min": "test_40.min()",
        "ex3_test_error_at_max_d": "test_40[max(ds_40)]",
    },
}


FROM_TABLES = {
    "01-hitters": {
        "lm_test_mae": "hitters.lm_test_mae",
        "lasso_test_mae": "hitters.lasso_test_mae",
        "nn_test_mae": "hitters.nn_test_mae",
        "toy_params": "hitters.toy_params",
    },
    "02-mnist": {
        "mlp_params": "mnist.mlp_params",
        "mlp_val_accuracy": "mnist.mlp_val_accuracy",
        "mlp_test_accuracy": "Network, test accuracy",
        "logistic_params": "mnist.logistic_params",
        "logistic_test_accuracy": "mnist.logistic_test_accuracy",
        "lda_test_accuracy": "mnist.lda_test_accuracy",
    },
    "03-cifar-cnn": {
        "params": "cifar.params",
        "epochs": "cifar.epochs",
        "test_accuracy": "cifar.test_accuracy",
    },
    "04-pretrained-cnn": {
        "resnet_params": "ResNet-50 parameters (torchvision)",
        "resnet_keras_params": "pretrained.resnet50_params",
    },
    "05-imdb-bag-of-words": {
        "density": "imdb.density",
        "lasso_val_accuracy": "Lasso, best validation accuracy",
        "lasso_test_accuracy": "imdb.lasso_test_accuracy",
        "dense_params": "imdb.dense_params",
        "dense_test_accuracy": "Dense network, test accuracy after 20 epochs",
        "continued_test_accuracy": "imdb.dense_test_accuracy",
    },
    "06-imdb-lstm": {
        "median_length": "imdb.median_length",
        "share_within_500": "imdb.share_within_500",
        "keras_params": "imdb.lstm_params_keras",
        "short_test_accuracy": "imdb.lstm_test_accuracy",
        "long_test_accuracy": "imdb.lstm_long_test_accuracy",
        "predict_seconds": "imdb.lstm_predict_seconds",
    },
    "07-nyse": {
        "n_sequences": "nyse.n_sequences",
        "ar_test_r2": "nyse.ar_test_r2",
        "ar_day_test_r2": "nyse.ar_day_test_r2",
        "rnn_test_r2": "nyse.rnn_test_r2",
        "flattened_test_r2": "Flattened AR (network), test R²",
        "nonlinear_ar_test_r2": "nyse.nn_test_r2",
    },
    "08-fitting": {
        "dd_argmax_d": "fitting.dd_peak_d",
    },
}


def pins(metrics: dict) -> dict:
    """What `isldl.pinned_fit` recorded of each fit: {name: {loaded, metrics, recorded, …}}."""
    return {k.removeprefix("pin:"): v for k, v in metrics.items() if k.startswith("pin:")}


def table_value(metrics: dict, key_or_label: str):
    """Our value in the row of a comparison table with this source key (or label)."""
    rows = [row for row in metrics["comparison_rows"]
            if key_or_label in (row["key"], row["label"])]
    assert len(rows) == 1, f"{len(rows)} comparison rows are {key_or_label!r}"
    return rows[0]["ours"]


def run_for_tests(qmd: Path, parameters: dict, out: Path) -> dict:
    """Run the chapter and return its metrics with every value above, by name."""
    metrics = run_chapter(qmd, parameters, out, values=VALUES.get(qmd.stem))
    for name, row in FROM_TABLES.get(qmd.stem, {}).items():
        metrics[name] = table_value(metrics, row)
    return metrics
