"""A stand-in for tensorflow.examples.tutorials.mnist.input_data, which TensorFlow removed.

    mnist = input_data.read_data_sets('MNIST_data', one_hot=True)

returns what the original did: mnist.train (55,000 images), mnist.validation (the first 5,000
training images) and mnist.test (10,000), each with .images (N x 784 float32 in [0, 1]) and
.labels (one-hot float32 N x 10, or digits). Missing files are downloaded and md5-checked; every
file is checked against the IDX format, and a bad one is named in a DataError.

Beyond the original: the datasets published in MNIST's format by name (dataset='fashion_mnist',
'kmnist'), and a folder of image files of your own (backstage/image_folder.py); the images in
color (channels=3); and what the stories need to know of the data: its classes' names, where it
came from, and the folder where what is learned from it is kept.
"""
import gzip
import hashlib
import os
import struct
import urllib.request
from collections import namedtuple

import numpy as np

from backstage import image_folder
from backstage.files import replaced_atomically
from configurator import ANY_CLASS, InputError

DEFAULT_SOURCE_URL = 'https://storage.googleapis.com/cvdf-datasets/mnist/'  # TF's loader used it
MNIST_FILES = {  # file name: md5 of the published file
    'train-images-idx3-ubyte.gz': 'f68b3c2dcbeaaa9fbdd348bbdeb94873',
    'train-labels-idx1-ubyte.gz': 'd53e105ee54ea40749a09fcbcd1e9432',
    't10k-images-idx3-ubyte.gz': '9fb629c4189551a2d022fa330f9573f3',
    't10k-labels-idx1-ubyte.gz': 'ec29112dd5afa0611ce80d1b7f02629c',
}
Published = namedtuple('Published', 'title url files classes')
# The datasets in MNIST's format, with the md5s their publishers give (the same torchvision checks
# in its datasets/mnist.py), their classes in label order, and the folder each goes to by default.
DATASETS = {
    'mnist': Published('MNIST', DEFAULT_SOURCE_URL, MNIST_FILES, [str(digit) for digit in range(10)]),
    'fashion_mnist': Published('Fashion-MNIST', 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/', {
        'train-images-idx3-ubyte.gz': '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
        'train-labels-idx1-ubyte.gz': '25c81989df183df01b3e8a0aad5dffbe',
        't10k-images-idx3-ubyte.gz': 'bef4ecab320f06d8554ea6380940ec79',
        't10k-labels-idx1-ubyte.gz': 'bb300cfdad3c16e7a12a480ee83cd310'},
        ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']),
    'kmnist': Published('Kuzushiji-MNIST', 'http://codh.rois.ac.jp/kmnist/dataset/kmnist/', {
        'train-images-idx3-ubyte.gz': 'bdb82020997e1d708af4cf47b453dcf7',
        'train-labels-idx1-ubyte.gz': 'e144d726b3acfaa3e44228e80efcd344',
        't10k-images-idx3-ubyte.gz': '5c965bf0a639b31b8f53240b1b52f4d7',
        't10k-labels-idx1-ubyte.gz': '7320c461ea6c1c855c0b718fb2a4b134'},
        ['o', 'ki', 'su', 'tsu', 'na', 'ha', 'ma', 'ya', 're', 'wo']),
}
DataSet = namedtuple('DataSet', 'images labels')
# classes: their names in label order (None: unlabelled images); source: what the data is, for
# messages and for a saved run to be resumed on the same; folder: where what is learned from the
# data is kept (the scorer's classifier, a folder's decoded images)
Datasets = namedtuple('Datasets', 'train validation test classes source folder',
                      defaults=(DATASETS['mnist'].classes, 'MNIST', 'MNIST_data'))


class DataError(InputError):
    """A data file that is missing, damaged or not MNIST: the message names it and says how to fix
    it, and the story ends as for any bad input (one line, status 2)."""


def maybe_download(train_dir, source_url=DEFAULT_SOURCE_URL, dataset='mnist'):
    """Fetch any of the dataset's four files missing from train_dir, checking each file's md5."""
    title, _, files, _ = DATASETS[dataset]
    if os.path.exists(train_dir) and not os.path.isdir(train_dir):
        raise DataError(f"data_dir {train_dir!r} is a file, not a folder. Point --data_dir at the "
                        f"folder holding the four {title} files ({', '.join(files)}).")
    missing = [name for name in files if not os.path.exists(os.path.join(train_dir, name))]
    for name in missing:
        print(f'downloading {source_url}{name}')
        try:
            with urllib.request.urlopen(source_url + name, timeout=60) as response:
                data = response.read()
            if hashlib.md5(data).hexdigest() != files[name]:
                raise OSError(f'{name} arrived with md5 {hashlib.md5(data).hexdigest()}, '
                              f'not the published {files[name]}')
            os.makedirs(train_dir, exist_ok=True)
            with replaced_atomically(os.path.join(train_dir, name)) as tmp, open(tmp, 'wb') as f:
                f.write(data)
        except (OSError, ValueError) as e:  # URLError, HTTPError and socket timeouts are OSErrors
            own = ', or at a folder of your own images' if dataset == 'mnist' else ''
            raise DataError(f"{title} file(s) missing from {train_dir}/: {', '.join(missing)}; "
                            f"downloading them from {source_url} failed ({e}). Copy the four "
                            f"original files into {train_dir}/, or point --data_dir at a folder "
                            f"that holds them{own}, and run again.") from None


def check_published(train_dir, dataset):
    """Refuse a data file that is another dataset's (by its md5); for a dataset other than MNIST,
    any file that is not the published one. (MNIST's folder may hold files of its format made
    otherwise, as the tests' small ones.)"""
    title, _, files, _ = DATASETS[dataset]
    for name, published in files.items():
        with open(os.path.join(train_dir, name), 'rb') as f:
            md5 = hashlib.md5(f.read()).hexdigest()
        other = next((d.title for d in DATASETS.values() if d.files[name] == md5 and d.title != title), None)
        if md5 != published and (other or dataset != 'mnist'):
            whose = f"{other}'s" if other else 'not the published one'
            raise DataError(f"{os.path.join(train_dir, name)} is {whose} (md5 {md5}), not {title}'s "
                            f"{published}. Point --data_dir at {title}'s own folder, or delete the file "
                            f"to download it again.")


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


def read_split(train_dir, kind, reshape=True, channels=1):
    """Images (N x 784 float32 in [0, 1], or N x 28 x 28 x 1 when not reshape; with channels=3
    the gray repeated in each of the three) and labels (N uint8) of 'train' or 't10k'."""
    images_path = os.path.join(train_dir, f'{kind}-images-idx3-ubyte.gz')
    labels_path = os.path.join(train_dir, f'{kind}-labels-idx1-ubyte.gz')
    images = read_idx(images_path, 2051, (28, 28))
    labels = read_idx(labels_path, 2049, ())
    if len(images) != len(labels):
        raise DataError(f"{images_path} holds {len(images)} images but {labels_path} holds "
                        f"{len(labels)} labels: the two files are not a pair.")
    if labels.size and labels.max() > 9:
        raise DataError(f"{labels_path} holds the label {labels.max()}; MNIST labels are 0 to 9.")
    images = np.repeat(images[..., None], channels, axis=-1).astype(np.float32) / 255.0
    return images.reshape((len(images), 784 * channels) if reshape else images.shape), labels


def read_data_sets(train_dir, one_hot=False, reshape=True, validation_size=5000,
                   source_url=DEFAULT_SOURCE_URL, dataset='mnist', channels=1, size=28, labelled=False):
    """What input_data.read_data_sets returned: .train, .validation, .test, each with .images
    (N x 784 float32 in [0, 1]; N x 28 x 28 x 1 when reshape is false, as the DCGAN asks with
    reshape=[]) and .labels (one-hot float32 N x 10, or digits). The first `validation_size`
    training images are held out, as TF's loader did. Beyond it: dataset names one of DATASETS
    (source_url left at MNIST's: the dataset's own publisher's); channels 3 gives RGB images
    (N x 784 * 3, or N x 28 x 28 x 3); a train_dir of image files is read as a folder of your
    own, its images brought to size x size, all of them training and test images alike (its
    subfolders, if any, the classes); labelled: refuse data without two classes or more."""
    if image_folder.is_image_folder(train_dir):
        return folder_data_sets(train_dir, one_hot, reshape, dataset, channels, size, labelled)
    published = DATASETS[dataset]
    source_url = published.url if source_url == DEFAULT_SOURCE_URL else source_url
    maybe_download(train_dir, source_url, dataset)
    check_published(train_dir, dataset)
    train_images, train_labels = read_split(train_dir, 'train', reshape, channels)
    test_images, test_labels = read_split(train_dir, 't10k', reshape, channels)
    if not 0 <= validation_size <= len(train_images):
        raise DataError(f"validation_size {validation_size} is not within the "
                        f"{len(train_images)} training images of {train_dir}/.")

    def labels(digits):
        return np.eye(10, dtype=np.float32)[digits] if one_hot else digits

    return Datasets(
        train=DataSet(train_images[validation_size:], labels(train_labels[validation_size:])),
        validation=DataSet(train_images[:validation_size], labels(train_labels[:validation_size])),
        test=DataSet(test_images, labels(test_labels)),
        classes=published.classes, source=published.title, folder=train_dir)


def source_of(train_dir, dataset='mnist'):
    """What the data is, for messages and for a saved run: 'MNIST', 'Fashion-MNIST', or 'the
    folder /its/path' (read_data_sets' .source)."""
    if image_folder.is_image_folder(train_dir):
        return f'the folder {os.path.abspath(train_dir)}'
    return DATASETS[dataset].title


def class_names(train_dir, dataset='mnist'):
    """The classes' names of the data read_data_sets would read, without reading it: a folder's
    subfolders (None: flat), or the named dataset's."""
    if image_folder.is_image_folder(train_dir):
        return image_folder.listing(train_dir)[1]
    return DATASETS[dataset].classes


def class_index(name, classes, source):
    """The index of a class given by its name or its index (--digit's value; '' or -1: any, -1)."""
    if name in ANY_CLASS:
        return -1
    if classes is None:
        raise InputError(f"--digit={name}: {source} holds no classes (no subfolders), so there is "
                         f"none to pick. Leave --digit out.")
    if name in classes:
        return classes.index(name)
    if name.isdigit() and int(name) < len(classes):
        return int(name)
    raise InputError(f"--digit={name} is not a class of {source}: give its index, 0 to "
                     f"{len(classes) - 1}, or its name, one of {', '.join(classes)}.")


def folder_data_sets(train_dir, one_hot, reshape, dataset, channels, size, labelled):
    """read_data_sets of a folder of image files."""
    if dataset != 'mnist':
        raise DataError(f"--dataset={dataset} names {DATASETS[dataset].title}, to be downloaded, and "
                        f"--data_dir={train_dir} holds images of your own: give one of them.")
    try:
        images, labels, classes = image_folder.read_folder(train_dir, size, channels)
    except image_folder.FolderError as e:
        raise DataError(str(e)) from None
    if labelled and (classes is None or len(classes) < 2):
        raise DataError(f"{train_dir} holds {'one class' if classes else 'its images unlabelled, with no subfolders'}: "
                        f"a conditional story learns to draw each of two classes or more. Put each "
                        f"class's images in a subfolder of its own (its name the class's), or train "
                        f"gan_mnist.py or dcgan_mnist.py on it.")
    # one fixed order that mixes the classes, as MNIST's files do: a loop that slices its batches in
    # order (the references') sees every class in each, and so do the first N images
    mixed = np.random.default_rng(0).permutation(len(images))
    images, labels = images[mixed], None if labels is None else labels[mixed]
    if reshape:
        images = images.reshape(len(images), -1)
    if labels is not None and one_hot:
        labels = np.eye(len(classes), dtype=np.float32)[labels]
    everything = DataSet(images, labels)
    return Datasets(train=everything, validation=DataSet(images[:0], None if labels is None else labels[:0]),
                    test=everything, classes=classes, source=source_of(train_dir),
                    folder=os.path.join(train_dir, image_folder.CACHE))
