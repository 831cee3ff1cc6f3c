"""A folder of image files as a data set, the way people keep their own pictures: flat (unlabelled
images) or one subfolder per class (labelled, the classes in sorted folder-name order, as
torchvision's ImageFolder and Keras' image_dataset_from_directory number them).

Whatever Pillow reads (PNG, JPEG, BMP, GIF, TIFF, WebP, ...; Pillow is imageio's own reader, used
directly: through imageio.v3.imread each small image took 4 times as long, 50 s for 60,000 instead
of 12): palette, 16-bit, gray-with-alpha and RGBA images are converted (alpha dropped onto black), each image brought to the story's size
as pytorch/examples' DCGAN does (the short side resized, then the center cropped) and to gray or
RGB. Hidden files and folders and other files (.DS_Store, Thumbs.db, notes.txt) are skipped; a
damaged image is named. The decoded images are kept in the folder's .gan_mnist/ (made again when
the folder changes: any image added, removed, resized or touched), which the next run reads in
a moment instead of decoding them all again.
"""
import hashlib
import os
import zipfile

import numpy as np
from PIL import Image

from backstage.files import replaced_atomically

EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.gif', '.tif', '.tiff', '.webp', '.ppm', '.pgm', '.pbm')
CACHE = '.gan_mnist'  # in the image folder: the decoded copy, and the classifier of its classes


class FolderError(ValueError):
    """What makes a folder no data set: the message names the folder or the file."""


def is_image_folder(path):
    """Whether path is a folder of image files (directly, or in subfolders), not of IDX files."""
    return os.path.isdir(path) and any(listing(path)[0].values())


def listing(path):
    """({class: [image paths]}, classes or None): the subfolders' images when any subfolder has
    some (the classes, sorted), else the folder's own images under the class None."""
    def images_in(folder):
        return sorted(entry.path for entry in os.scandir(folder) if entry.is_file()
                      and not entry.name.startswith('.') and entry.name.lower().endswith(EXTENSIONS))
    subfolders = sorted(entry.name for entry in os.scandir(path) if entry.is_dir() and not entry.name.startswith('.'))
    by_class = {name: images_in(os.path.join(path, name)) for name in subfolders}
    by_class = {name: files for name, files in by_class.items() if files}
    if by_class:
        return by_class, sorted(by_class)
    return {None: images_in(path)}, None


def fingerprint(files, size, channels):
    """What a decoded copy was made from: every image's path, size in bytes and time of change,
    and the size and channels asked for."""
    digest = hashlib.md5(f'{size} {channels}'.encode())
    for path in files:
        stat = os.stat(path)
        digest.update(f'{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n'.encode('utf-8', 'surrogateescape'))
    return digest.hexdigest()


def decoded(path, channels):
    """One image as float32 in [0, 1], height x width x channels (1: gray, 3: RGB)."""
    try:
        with Image.open(path) as picture:  # a GIF's first frame; palettes and bilevel images converted
            if picture.mode not in ('L', 'LA', 'RGB', 'RGBA', 'I;16', 'I'):
                picture = picture.convert('RGBA' if 'A' in picture.mode or 'transparency' in picture.info else 'RGB')
            image = np.asarray(picture)
    except (OSError, ValueError, SyntaxError) as e:  # Pillow's UnidentifiedImageError is an OSError
        raise FolderError(f"{path} cannot be read as an image ({str(e).splitlines()[0]}). Replace "
                          f"or remove it.") from None
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[-1] not in (1, 2, 3, 4) or min(image.shape[:2]) < 1:
        raise FolderError(f"{path} is not a still image of 1 to 4 channels (shape {image.shape}). "
                          f"Replace or remove it.")
    peak = 255.0 if image.dtype == np.uint8 else 65535.0  # 16-bit ('I;16', or 'I' as Pillow reads 16-bit PNGs)
    image = image.astype(np.float32) / peak
    if image.shape[-1] in (2, 4):  # gray or RGB with alpha: onto black
        image = image[..., :-1] * image[..., -1:]
    if channels == 1 and image.shape[-1] == 3:
        return image @ np.array([[0.299], [0.587], [0.114]], np.float32)  # luminance, as PIL's 'L'
    if channels == 3 and image.shape[-1] == 1:
        return np.repeat(image, 3, axis=-1)
    return image


class Resizer:
    """Images of one shape at a time to size x size: the short side resized (area-averaged when
    shrinking, bilinear when growing, as TensorFlow's antialiased resize), then the center cropped."""

    def __init__(self, size):
        import tensorflow as tf2  # here: the stories import this module before TensorFlow (bad settings first)
        import tensorflow.compat.v1 as tf
        self.size, self.graph = size, tf.Graph()
        with self.graph.as_default():
            self.images = tf.placeholder(tf.float32, (None, None, None, None))
            self.to = tf.placeholder(tf.int32, (2,))
            self.resized = tf2.image.resize(self.images, self.to, antialias=True)  # TF2's: antialias
        self.sess = tf.Session(graph=self.graph)

    def __call__(self, images):
        height, width = images.shape[1:3]
        scale = self.size / min(height, width)
        to = (max(self.size, round(height * scale)), max(self.size, round(width * scale)))
        if (height, width) != to:
            images = self.sess.run(self.resized, {self.images: images, self.to: to})
        top, left = (to[0] - self.size) // 2, (to[1] - self.size) // 2
        return np.clip(images[:, top:top + self.size, left:left + self.size], 0, 1)


def read_folder(path, size, channels, say=print):
    """The images of a folder (N x size x size x channels, float32 in [0, 1]), their class
    indices (N, or None for a flat folder) and the classes' names (or None)."""
    by_class, classes = listing(path)
    files = [file for group in by_class.values() for file in group]
    if not files:
        raise FolderError(f"{path} holds no image files ({', '.join(EXTENSIONS[:4])}, ...), neither "
                          f"directly nor in subfolders. Point --data_dir at a folder of images.")
    labels = None if classes is None else np.concatenate(
        [np.full(len(group), index) for index, group in enumerate(by_class.values())])
    key = fingerprint(files, size, channels)
    cache = os.path.join(path, CACHE, f'images_{size}x{size}x{channels}.npz')
    try:
        with np.load(cache, allow_pickle=False) as kept:
            if str(kept['fingerprint']) == key:
                return kept['images'].astype(np.float32) / 255, labels, classes
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        pass  # none yet, or damaged: decoded again below
    say(f'decoding the {len(files)} images of {path} (once: kept in {os.path.join(path, CACHE)}/)')
    images, resize = np.empty((len(files), size, size, channels), np.uint8), Resizer(size)
    by_shape = {}
    for index, file in enumerate(files):
        image = decoded(file, channels)
        by_shape.setdefault(image.shape, []).append((index, image))
    for group in by_shape.values():  # one resize a shape: a folder of one size takes one
        indices = [index for index, _ in group]
        for start in range(0, len(group), 5000):
            batch = np.stack([image for _, image in group[start:start + 5000]])
            images[indices[start:start + 5000]] = np.round(resize(batch) * 255)
    try:
        os.makedirs(os.path.dirname(cache), exist_ok=True)
        with replaced_atomically(cache) as tmp, open(tmp, 'wb') as f:
            np.savez(f, images=images, fingerprint=np.array(key))
    except OSError as e:
        say(f'could not keep the decoded images in {os.path.dirname(cache)}/ ({e.strerror}); they are '
            f'decoded again next time')
    return images.astype(np.float32) / 255, labels, classes
