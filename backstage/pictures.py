"""The pictures of a run, each a figure drawn once and updated per epoch: the sample grid (the
reference's show_result: 5x5, or a row a class for the conditional stories), the loss plot (its
show_train_hist), the quality plot, the GIF of the Fixed grids, and a grid as a TensorBoard image;
gray images or, with channels=3, color ones. Each writes to the path it is given; making that
write whole is the caller's job."""
import math

import imageio.v3 as iio
import matplotlib
import numpy as np
import tensorflow.compat.v1 as tf

matplotlib.use('Agg')  # files only, no window: also works on a machine with no display
import matplotlib.pyplot as plt  # after use('Agg'): the backend must be chosen first


def side_and_channels(image):
    """The side and the channels of one square image: side x side x channels, or flat (a
    gray one's pixels, or a color one's three times as many)."""
    if np.ndim(image) == 3:
        return image.shape[0], image.shape[2]
    side = math.isqrt(np.size(image))
    return (side, 1) if side * side == np.size(image) else (math.isqrt(np.size(image) // 3), 3)


def grid_of(images, columns, fill=np.nan):
    """Square images (N x side x side x channels, or flat) side by side in rows of `columns`,
    each in a 1-pixel frame of `fill` (NaN: blank), the last row filled up with blank tiles:
    rows * (side + 2) x columns * (side + 2) x channels."""
    side, channels = side_and_channels(images[0])
    n, rows = len(images), -(-len(images) // columns)
    tiles = np.full((rows * columns, side + 2, side + 2, channels), fill, np.float32)
    tiles[:n, 1:-1, 1:-1] = np.reshape(images, (n, side, side, channels))
    return tiles.reshape(rows, columns, side + 2, side + 2, channels).transpose(0, 2, 1, 3, 4) \
        .reshape(rows * (side + 2), columns * (side + 2), channels)


def shown(grid, ax):
    """A grid in [-1, 1] drawn on ax: gray through the gray colormap (NaN: blank), color as RGB
    (NaN: white)."""
    if grid.shape[-1] == 1:
        return ax.imshow(grid[..., 0], cmap='gray', vmin=-1, vmax=1, interpolation='nearest')
    return ax.imshow(np.nan_to_num((grid + 1) / 2, nan=1.0).clip(0, 1), interpolation='nearest')


def picture_of(fig, channels):
    """The figure as uint8 pixels: gray (its red channel) or RGB."""
    pixels = np.asarray(fig.canvas.buffer_rgba())
    return pixels[..., 0].copy() if channels == 1 else pixels[..., :3].copy()


class GridFigure:
    """A grid of generated images, `columns` wide (5x5 as the reference's show_result drew it;
    the conditional references' a row of 10 a class), with a caption, as one image instead of a
    subplot each: about 15 ms a picture instead of several hundred."""

    def __init__(self, columns=5):
        self.columns, inches = columns, max(5, 0.7 * columns)  # 5x5: 500 x 500 pixels, as the reference's
        self.fig = plt.figure(figsize=(inches, inches))
        self.ax = self.fig.add_axes([0.05, 0.07, 0.9, 0.9])  # 5x5: 450 pixels, each image pixel drawn 3x3
        self.ax.axis('off')
        self.caption = self.fig.text(0.5, 0.025, '', ha='center')

    def save(self, images, caption, path):
        """Save the first columns x columns square images (flat, or N x size x size x channels,
        in [-1, 1]; a conditional story's rows as many as it has images) and return the picture
        as uint8, gray or RGB."""
        n = len(images) if len(images) % self.columns == 0 and len(images) > self.columns ** 2 \
            else self.columns ** 2
        grid = grid_of(images[:n], self.columns)
        for image in self.ax.images:
            image.remove()
        shown(grid, self.ax).set_extent((-0.5, grid.shape[1] - 0.5, grid.shape[0] - 0.5, -0.5))
        self.caption.set_text(caption)
        self.fig.savefig(path, format='png')
        return picture_of(self.fig, grid.shape[-1])


class LossFigure:
    """D and G loss per epoch, as the reference's show_train_hist drew it."""

    def __init__(self):
        self.fig, self.ax = plt.subplots()
        self.D_line, = self.ax.plot([], [], '.-', label='D_loss')
        self.G_line, = self.ax.plot([], [], '.-', label='G_loss')
        self.ax.set_xlabel('Epoch')
        self.ax.set_ylabel('Loss')
        self.ax.legend(loc=4)
        self.ax.grid(True)
        self.fig.tight_layout()

    def save(self, hist, path):
        epochs = np.arange(1, len(hist['D_losses']) + 1)
        self.D_line.set_data(epochs, hist['D_losses'])
        self.G_line.set_data(epochs, hist['G_losses'])
        self.ax.relim()
        self.ax.autoscale_view()
        self.fig.savefig(path, format='png')


class QualityFigure:
    """Classifier score and Fréchet distance per scored epoch, with the real-data ceilings."""

    def __init__(self):
        self.fig, (self.score_ax, self.distance_ax) = plt.subplots(2, 1, sharex=True, figsize=(6.4, 6.4))
        self.score_ax.set_ylabel('classifier score (at most 10)')
        self.distance_ax.set_ylabel('Fréchet distance (0 is best)')
        self.distance_ax.set_yscale('log')
        self.distance_ax.set_xlabel('Epoch')

    def save(self, scores, path):
        epochs = [s['epoch'] for s in scores]
        for ax, name in ((self.score_ax, 'classifier_score'), (self.distance_ax, 'frechet_distance')):
            for line in list(ax.lines):
                line.remove()
            ax.plot(epochs, [s[name] for s in scores], '.-', color='C0', label='samples')
            ax.plot(epochs, [s[f'real_{name}'] for s in scores], '--', color='gray', label='real images')
            ax.grid(True)
            ax.relim()
            ax.autoscale_view()
        self.score_ax.legend(loc='best')
        self.fig.tight_layout()
        self.fig.savefig(path, format='png')


def save_rows(rows, labels, caption, path):
    """Rows of square images (R x C x side x side [x channels], in [-1, 1]; NaN: an empty tile),
    each row labelled on its left, and a caption below: --sample's sheet by class, --interpolate's
    walks. A 28x28 image is drawn 3x3 screen pixels a pixel, as in the 5x5 grid."""
    n_rows, n_columns, side = rows.shape[:3]
    tile, scale = side + 2, max(1, 84 // side)  # a blank 1-pixel frame around each image
    sheet = grid_of(rows.reshape(n_rows * n_columns, side, side, -1), n_columns)
    width, height = n_columns * tile * scale / 100, n_rows * tile * scale / 100  # inches at 100 dpi
    margin_left, margin_bottom = 1.5, 0.4
    fig = plt.figure(figsize=(width + margin_left + 0.1, height + margin_bottom + 0.1), dpi=100)
    ax = fig.add_axes([margin_left / (width + margin_left + 0.1), margin_bottom / (height + margin_bottom + 0.1),
                       width / (width + margin_left + 0.1), height / (height + margin_bottom + 0.1)])
    shown(sheet, ax)
    ax.set_xticks([])
    ax.set_yticks((np.arange(n_rows) + 0.5) * tile - 0.5, labels)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.text(0.5, 0.15 / (height + margin_bottom + 0.1), caption, ha='center')
    fig.savefig(path, format='png')
    plt.close(fig)


def tiled(images, columns, scale=3):
    """Square images (N x side x side [x channels], in [-1, 1]) side by side in rows of
    `columns`, each pixel drawn scale x scale, as uint8 (gray, or RGB) with a black 1-pixel frame
    around each: a GIF frame."""
    grid = grid_of(images, columns, fill=-1)
    pixels = np.kron(np.round((grid + 1) * 127.5).astype(np.uint8), np.ones((scale, scale, 1), np.uint8))
    return pixels[..., 0] if pixels.shape[-1] == 1 else pixels


def save_gif(frames, path, duration=200):
    # 5 fps by default, as the reference; optimize=False keeps one 256-gray palette for every
    # gray frame, without which Pillow reads a later frame in another mode than the first
    iio.imwrite(path, np.stack(frames), extension='.gif', duration=duration, loop=0, optimize=False)


def image_summary(tag, picture):
    """A TensorBoard image summary of a uint8 picture, gray or RGB, PNG-encoded as
    tf.summary.image does."""
    height, width = picture.shape[:2]
    png = iio.imwrite('<bytes>', picture, extension='.png')
    return tf.Summary(value=[tf.Summary.Value(tag=tag, image=tf.Summary.Image(
        height=height, width=width, colorspace=1 if picture.ndim == 2 else 3, encoded_image_string=png))])


def close(*figures):
    for figure in figures:
        plt.close(figure.fig)
