"""Beyond MNIST: a folder of image files (flat, or a subfolder a class; every kind of image
converted, resized and cropped; the decoded copy kept and made again), the datasets in MNIST's
format by name (the download through a local HTTP server, the md5s, no network), color, the
classes named wherever digits were, and the stories end to end on a folder."""
import gzip
import hashlib
import os

import numpy as np
import pytest
from helpers import CGAN, SCRIPT, http_server, run_script, script_defaults, write_mnist
from PIL import Image

import input_data
from backstage import classifier, image_folder, mnist_score, pictures
from configurator import InputError, configure


def write(path, array, mode=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(array, mode).save(path)


def digit_like(value, size=28):
    """A gray square of one value with a bright bar, so that classes differ."""
    image = np.full((size, size), value, np.uint8)
    image[size // 3:size // 2, 4:-4] = 255
    return image


@pytest.fixture
def classes(tmp_path):
    """Two classes, 'b' and 'a' (written in that order): PNG, JPEG, BMP, 32x32, palette, 16-bit,
    gray with alpha and RGBA images, and files that are no images or hidden."""
    folder = tmp_path / 'classes'
    for i in range(6):
        write(str(folder / 'b' / f'{i}.png'), digit_like(10 * i))
    write(str(folder / 'a' / '0.jpg'), np.stack([digit_like(0)] * 3, -1))
    write(str(folder / 'a' / '1.bmp'), digit_like(20))
    write(str(folder / 'a' / '2.png'), digit_like(30, 32))
    Image.fromarray(digit_like(40)).convert('P').save(folder / 'a' / '3.png')
    write(str(folder / 'a' / '4.png'), digit_like(50).astype(np.uint16) * 257)
    write(str(folder / 'a' / '5.png'), np.stack([digit_like(60), np.full((28, 28), 255, np.uint8)], -1), 'LA')
    write(str(folder / 'a' / '6.png'), np.stack([digit_like(70)] * 3 + [np.full((28, 28), 255, np.uint8)], -1), 'RGBA')
    for name in ('.DS_Store', 'Thumbs.db', 'notes.txt', '.hidden.png'):
        (folder / 'a' / name).write_bytes(b'not an image')
    (folder / '.git').mkdir()
    write(str(folder / '.git' / 'x.png'), digit_like(0))
    return str(folder)


def test_a_folder_of_classes_is_read_as_imagefolder_reads_it(classes):
    images, labels, names = image_folder.read_folder(classes, 28, 1)
    assert names == ['a', 'b'] and list(labels) == [0] * 7 + [1] * 6  # sorted folder names, then file names
    values = np.round(images[:, 0, 0, 0] * 255)
    assert list(values[7:]) == [0, 10, 20, 30, 40, 50] and values[1] == 20 and values[4] == 50  # each kind decoded
    data = input_data.read_data_sets(classes, one_hot=True, labelled=True)
    assert data.classes == ['a', 'b'] and data.source == f'the folder {os.path.abspath(classes)}'
    assert data.train.images.shape == (13, 784) and data.train.images.dtype == np.float32
    assert 0 <= data.train.images.min() and data.train.images.max() <= 1
    assert data.test is data.train and len(data.validation.images) == 0
    assert data.folder == os.path.join(classes, image_folder.CACHE)
    # each image with its label, in one fixed order that mixes the classes, as MNIST's files come
    mixed = data.train.labels.argmax(1)
    assert sorted(zip(map(bytes, data.train.images), mixed)) == sorted(zip(map(bytes, images.reshape(13, 784)), labels))
    assert list(mixed) != sorted(mixed)
    assert np.array_equal(input_data.read_data_sets(classes).train.images, data.train.images)  # the same each time
    color = input_data.read_data_sets(classes, reshape=False, channels=3)
    assert color.train.images.shape == (13, 28, 28, 3)
    assert np.allclose(color.train.images[..., 0], color.train.images[..., 2], atol=2 / 255)  # gray, in RGB


def test_the_decoded_copy_is_kept_and_made_again_when_the_folder_changes(classes, monkeypatch, capsys):
    first = input_data.read_data_sets(classes)
    assert 'decoding the 13 images of' in capsys.readouterr().out
    monkeypatch.setattr(image_folder, 'decoded', lambda *a: pytest.fail('decoded again'))
    again = input_data.read_data_sets(classes)
    assert np.array_equal(first.train.images, again.train.images) and capsys.readouterr().out == ''
    monkeypatch.undo()
    write(os.path.join(classes, 'b', '6.png'), digit_like(90))
    assert len(input_data.read_data_sets(classes).train.images) == 14


def test_each_image_is_resized_by_its_short_side_then_cropped_at_the_center(tmp_path):
    wide = np.zeros((28, 56), np.uint8)
    wide[:, 14:42] = 255  # the middle half white: all that the crop keeps
    write(str(tmp_path / 'f' / 'wide.png'), wide)
    write(str(tmp_path / 'f' / 'small.png'), np.full((14, 14), 128, np.uint8))
    data = input_data.read_data_sets(str(tmp_path / 'f'), reshape=False, size=64)
    assert data.classes is None and data.train.labels is None
    assert data.train.images.shape == (2, 64, 64, 1)
    small, wide = data.train.images  # in the order of their names
    assert small.min() == small.max() == pytest.approx(128 / 255)  # 14 -> 64
    assert wide[:, 1:-1].min() == pytest.approx(1.0) and wide[:, 0].max() < 0.9  # 28x56 -> 64x128: its middle 64


@pytest.mark.parametrize('layout, says', [
    ('flat', 'holds its images unlabelled, with no subfolders: a conditional story learns'),
    ('one class', 'holds one class: a conditional story learns to draw each of two classes or more')])
def test_a_conditional_story_needs_two_classes(tmp_path, layout, says):
    where = tmp_path / 'f' / ('only' if layout == 'one class' else '')
    write(str(where / '0.png'), digit_like(0))
    with pytest.raises(InputError, match=says):
        input_data.read_data_sets(str(tmp_path / 'f'), labelled=True)


def test_a_damaged_image_is_named(classes):
    with open(os.path.join(classes, 'b', '99.png'), 'wb') as f:
        f.write(b'not an image')
    with pytest.raises(InputError, match=r"99\.png cannot be read as an image .* Replace or remove it"):
        input_data.read_data_sets(classes)


@pytest.fixture
def publisher(tmp_path):
    """A local HTTP server serving small files in MNIST's format; yields (url, folder)."""
    served = tmp_path / 'served'
    write_mnist(str(served), 120, 30)
    with http_server(served) as url:
        yield url, served


def md5s(folder):
    return {name: hashlib.md5((folder / name).read_bytes()).hexdigest() for name in input_data.MNIST_FILES}


def test_a_dataset_by_name_is_downloaded_into_its_folder_and_md5_checked(tmp_path, publisher, monkeypatch):
    url, served = publisher
    fashion = input_data.DATASETS['fashion_mnist']
    with pytest.raises(InputError, match=r"Fashion-MNIST file\(s\) missing .* arrived with md5 .*, not the published "
                                         + fashion.files['train-images-idx3-ubyte.gz']):
        input_data.read_data_sets(str(tmp_path / 'fashion'), source_url=url, dataset='fashion_mnist')
    assert not (tmp_path / 'fashion').exists()
    monkeypatch.setitem(input_data.DATASETS, 'fashion_mnist', fashion._replace(files=md5s(served)))
    data = input_data.read_data_sets(str(tmp_path / 'fashion'), source_url=url, dataset='fashion_mnist', validation_size=20)
    assert data.classes[7] == 'Sneaker' and data.source == 'Fashion-MNIST' and len(data.train.images) == 100
    with pytest.raises(InputError, match=r"train-images-idx3-ubyte\.gz is Fashion-MNIST's \(md5 .*\), not MNIST's"):
        input_data.read_data_sets(str(tmp_path / 'fashion'), validation_size=20)  # into MNIST's place
    with gzip.open(tmp_path / 'fashion' / 't10k-labels-idx1-ubyte.gz', 'ab') as f:
        f.write(b'')  # a file that is not the published one any more
    with pytest.raises(InputError, match=r"t10k-labels-idx1-ubyte\.gz is not the published one .*, not Fashion-MNIST's"):
        input_data.read_data_sets(str(tmp_path / 'fashion'), dataset='fashion_mnist', validation_size=20)


def test_without_a_network_one_line_names_the_address_and_writes_nothing(tmp_path):
    run = run_script('--dataset=kmnist', f'--data_dir={tmp_path / "k"}', f'--results_dir={tmp_path / "r"}',
                     '--data_url=http://127.0.0.1:9/')
    assert run.returncode == 2 and 'Traceback' not in run.stderr
    said = [line for line in run.stderr.splitlines() if line.startswith('gan_mnist.py: error:')]
    assert len(said) == 1 and 'Kuzushiji-MNIST file(s) missing' in said[0] and 'http://127.0.0.1:9/' in said[0]
    assert 'Copy the four original files into' in said[0]
    assert not (tmp_path / 'k').exists() and not (tmp_path / 'r').exists()


def test_a_dataset_by_name_gets_a_folder_of_its_own():
    assert configure(['--dataset=fashion_mnist'], script_defaults())['data_dir'] == 'fashion_mnist_data'
    assert configure(['--dataset=kmnist', '--data_dir=k'], script_defaults())['data_dir'] == 'k'


def test_a_folder_of_classes_is_scored_by_a_classifier_of_its_own(classes, monkeypatch, capsys):
    monkeypatch.setattr(classifier, 'EPOCHS', 1)
    data = input_data.read_data_sets(classes, one_hot=True)
    judge = classifier.load_judge(data)
    path = os.path.join(classes, image_folder.CACHE, 'classifier.npz')
    assert judge.name == f'the classifier trained on the images of {data.source} ({path})'
    assert judge.classes == 2 and os.path.exists(path) and 'training a classifier on the images of' in capsys.readouterr().out
    monkeypatch.setattr(classifier, 'train_classifier', lambda *a, **k: pytest.fail('trained again'))
    assert np.array_equal(classifier.load_judge(data).weights['out_kernel'], judge.weights['out_kernel'])
    figures = mnist_score.score_images((data.train.images - 0.5) / 0.5, data, judge)
    assert len(figures['digit_shares']) == 2 and figures['frechet_distance'] == pytest.approx(0, abs=1e-3)
    flat = data._replace(classes=None)
    assert classifier.load_judge(flat) is None


def test_color_pictures_are_drawn_in_color(tmp_path):
    images = np.zeros((25, 28, 28, 3), np.float32) - 1
    images[:, :, :, 0] = 1  # red
    picture = pictures.GridFigure().save(images, 'red', str(tmp_path / 'grid.png'))
    assert picture.ndim == 3 and picture.shape[-1] == 3
    inside = picture[picture.shape[0] // 2 - 3, picture.shape[1] // 2 - 3]
    assert inside[0] > 200 and inside[1] < 50 and inside[2] < 50
    frame = pictures.tiled(images[:4], 2)
    assert frame.shape == (2 * 30 * 3, 2 * 30 * 3, 3) and frame[5, 5, 0] == 255 and frame[5, 5, 1] == 0
    assert pictures.image_summary('grid', frame).value[0].image.colorspace == 3


def test_the_stories_train_on_a_folder_and_refuse_other_data(tiny_mnist, tmp_path):
    """A conditional story on a folder of two classes: trained, asked for a class by its name,
    scored by a classifier of the folder's own; then resumed on other data, refused."""
    folder = tmp_path / 'pictures'
    rng = np.random.default_rng(0)
    for name, row in (('circles', 5), ('bars', 20)):
        for i in range(60):
            image = rng.integers(0, 30, (28, 28)).astype(np.uint8)
            image[row:row + 4, 4:24] = 255
            write(str(folder / name / f'{i}.png'), image)
    common = (f'--data_dir={folder}', f'--results_dir={tmp_path / "c"}')
    trained = run_script(*common, '--train_epoch=1', '--batch_size=20', '--eval_samples=0', script=CGAN)
    assert trained.returncode == 0, trained.stderr[-2000:]
    asked = run_script(*common, '--sample=10', '--digit=circles', script=CGAN)
    assert asked.returncode == 0, asked.stderr[-2000:]
    assert (np.load(tmp_path / 'c' / 'labels.npy') == 1).all()  # 'circles' sorts after 'bars'
    assert 'read by the classifier as the class asked for' in asked.stdout
    resumed = run_script(f'--data_dir={tiny_mnist}', common[1], '--train_epoch=2', '--batch_size=20', '--eval_samples=0',
                         script=CGAN)
    assert resumed.returncode == 2 and 'Traceback' not in resumed.stderr
    assert f'holds a run trained on the folder {folder} (bars, circles); this command reads MNIST (0, 1' \
        in resumed.stderr
    few = run_script(f'--data_dir={folder}', f'--results_dir={tmp_path / "few"}', '--batch_size=500', script=SCRIPT)
    assert few.returncode == 2 and '--batch_size=500 is larger than the 120 training images' in few.stderr
    assert not (tmp_path / 'few').exists()
