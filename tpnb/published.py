"""Numbers from the seeds and the literature that the book compares with: quotations, each with its source,
not results of this book. Accuracies are fractions."""

# Seed 003 (Farias & Maziero, "Gradient target propagation"), Table 2 "Results on Fashion-MNIST": network ->
# (test accuracy, tau, eta, epochs). Batch size 1, inputs in [0, 1], 50 000 training / 10 000 test images;
# section 4: "The 1-hidden and 2-hidden layers size networks were trained in 30 epochs. The 3-hidden layer
# network were trained in 60 epochs."
SEED003_TABLE2 = {
    (784, 100, 10): (0.8703, 100.0, 0.01, 30),
    (784, 100, 100, 10): (0.8771, 25.0, 0.0005, 30),
    (784, 100, 100, 100, 10): (0.8792, 25.0, 0.000025, 60),
    (784, 500, 10): (0.8729, 100.0, 0.01, 30),
    (784, 500, 500, 10): (0.8777, 25.0, 0.0005, 30),
}

# Seed 002 (Meulemans et al. 2020, "A theoretical framework for target propagation", NeurIPS 2020). Its
# Table 1 values did not survive in the seed text and no stored source quotes them, so none is given here.
SEED002_EPOCHS = 100        # appendix B: hyperparameters chosen on "the best validation error over 100 epochs"
SEED002_VALIDATION = 5000   # section 6: "a validation set of 5000 samples from the training set"
SEED002_SEEDS = 10          # github.com/meulemansalex/theoretical_framework_for_target_propagation, README: "The
# results in Table 1, 2, S6, S8, S9 and S10 of the paper were computed over 10 random weight initializations"

# Xiao, Rasul & Vollgraf 2017, "Fashion-MNIST: a novel image dataset for benchmarking machine learning
# algorithms", arXiv:1708.07747v2, Table 3: scikit-learn MLPClassifier, activation=relu,
# hidden_layer_sizes=[100], test accuracy 0.871 (mean of 5 runs); also github.com/zalandoresearch/fashion-mnist
# (README, "Benchmark").
FASHION_MNIST_MLP_RELU_100 = 0.871
