"""A stand-in for tensorflow.examples.tutorials.mnist.input_data, which TensorFlow removed.

    mnist = input_data.read_data_sets('MNIST_data', one_hot=True)

returns what the original did: mnist.train (55,000 images), mnist.validation (the first 5,000
training images) and mnist.test (10,000), each with .images (N x 784 float32 in [0, 1]) and
.labels (one-hot float32 N x 10, or digits). Missing files are downloaded and md5-checked; every
file is checked against the IDX format, and a bad one is named in a DataError.
"""
import gzip
import hashlib
import os
import struct
import urllib.request
from collections import namedtuple

import numpy as np

from backstage.files import replaced_atomically
from configurator import InputError

DEFAULT_SOURCE_URL = 'https://storage.googleapis.com/cvdf-datasets/mnist/'  # TF's loader used it
MNIST_FILES = {  # file name: md5 of the published file
    'train-images-idx3-ubyte.gz': 'f68b3c2dcbeaaa9fbdd348bbdeb94873',
    'train-labels-idx1-ubyte.gz': 'd53e105ee54ea40749a09fcbcd1e9432',
    't10k-images-idx3-ubyte.gz': '9fb629c4189551a2d022fa330f9573f3',
    't10k-labels-idx1-ubyte.gz': 'ec29112dd5afa0611ce80d1b7f02629c',
}
DataSet = namedtuple('DataSet', 'images labels')
Datasets = namedtuple('Datasets', 'train validation test')


class DataError(InputError):
    """A data file that is missing, damaged or not MNIST: the message names it and says how to fix
    it, and the story ends as for any bad input (one line, status 2)."""


def maybe_download(train_dir, source_url=DEFAULT_SOURCE_URL):
    """Fetch any of the four MNIST files missing from train_dir, checking each file's md5."""
    if os.path.exists(train_dir) and not os.path.isdir(train_dir):
        raise DataError(f"data_dir {train_dir!r} is a file, not a folder. Point --data_dir at the "
                        f"folder holding the four MNIST files ({', '.join(MNIST_FILES)}).")
    missing = [name for name in MNIST_FILES if not os.path.exists(os.path.join(train_dir, name))]
    for name in missing:
        print(f'downloading {source_url}{name}')
        try:
            with urllib.request.urlopen(source_url + name, timeout=60) as response:
                data = response.read()
            if hashlib.md5(data).hexdigest() != MNIST_FILES[name]:
                raise OSError(f'{name} arrived with md5 {hashlib.md5(data).hexdigest()}, '
                              f'not the published {MNIST_FILES[name]}')
            os.makedirs(train_dir, exist_ok=True)
            with replaced_atomically(os.path.join(train_dir, name)) as tmp, open(tmp, 'wb') as f:
                f.write(data)
        except (OSError, ValueError) as e:  # URLError, HTTPError and socket timeouts are OSErrors
            raise DataError(f"MNIST file(s) missing from {train_dir}/: {', '.join(missing)}; "
                            f"downloading them from {source_url} failed ({e}). Copy the four "
                            f"original files into {train_dir}/, or point --data_dir at a folder "
                            f"that holds them, and run again.") from None


def read_idx(path, magic, shape):
    """One gzipped IDX file as a uint8 array, checked against the format; `shape` is what one
    item must look like (() for a label, (28, 28) for an image)."""
    try:
        with gzip.open(path, 'rb') as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise DataError(f"{path} cannot be read as gzip ({e}). It is damaged or truncated: "
                        f"delete it to download it again, or copy the original.") from None
    ndim = 1 + len(shape)
    header = 4 + 4 * ndim
    if len(raw) < header or struct.unpack('>I', raw[:4])[0] != magic:
        raise DataError(f"{path} is not an MNIST IDX file: it does not start with the magic "
                        f"number {magic}. Delete it to download it again, or copy the original.")
    dims = struct.unpack(f'>{ndim}I', raw[4:header])
    if dims[1:] != shape:
        raise DataError(f"{path} holds items of shape {dims[1:]}, not {shape}: it is not the "
                        f"MNIST file of that name. Replace it with the original.")
    if len(raw) - header != int(np.prod(dims)):
        raise DataError(f"{path} is truncated or padded: its header promises {dims[0]} items "
                        f"({int(np.prod(dims))} bytes), it holds {len(raw) - header} bytes. "
                        f"Delete it to download it again, or copy the original.")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims)


def read_split(train_dir, kind, reshape=True):
    """Images (N x 784 float32 in [0, 1], or N x 28 x 28 x 1 when not reshape) and labels
    (N uint8) of 'train' or 't10k'."""
    images_path = os.path.join(train_dir, f'{kind}-images-idx3-ubyte.gz')
    labels_path = os.path.join(train_dir, f'{kind}-labels-idx1-ubyte.gz')
    images = read_idx(images_path, 2051, (28, 28))
    labels = read_idx(labels_path, 2049, ())
    if len(images) != len(labels):
        raise DataError(f"{images_path} holds {len(images)} images but {labels_path} holds "
                        f"{len(labels)} labels: the two files are not a pair.")
    if labels.size and labels.max() > 9:
        raise DataError(f"{labels_path} holds the label {labels.max()}; MNIST labels are 0 to 9.")
    shape = (-1, 784) if reshape else (-1, 28, 28, 1)
    return images.reshape(shape).astype(np.float32) / 255.0, labels


def read_data_sets(train_dir, one_hot=False, reshape=True, validation_size=5000,
                   source_url=DEFAULT_SOURCE_URL):
    """What input_data.read_data_sets returned: .train, .validation, .test, each with .images
    (N x 784 float32 in [0, 1]; N x 28 x 28 x 1 when reshape is false, as the DCGAN asks with
    reshape=[]) and .labels (one-hot float32 N x 10, or digits). The first `validation_size`
    training images are held out, as TF's loader did."""
    maybe_download(train_dir, source_url)
    train_images, train_labels = read_split(train_dir, 'train', reshape)
    test_images, test_labels = read_split(train_dir, 't10k', reshape)
    if not 0 <= validation_size <= len(train_images):
        raise DataError(f"validation_size {validation_size} is not within the "
                        f"{len(train_images)} training images of {train_dir}/.")

    def labels(digits):
        return np.eye(10, dtype=np.float32)[digits] if one_hot else digits

    return Datasets(
        train=DataSet(train_images[validation_size:], labels(train_labels[validation_size:])),
        validation=DataSet(train_images[:validation_size], labels(train_labels[:validation_size])),
        test=DataSet(test_images, labels(test_labels)))
