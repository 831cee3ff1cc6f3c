"""The pictures of a run, each a figure drawn once and updated per epoch: the 5x5 sample grid
(the reference's show_result), the loss plot (its show_train_hist), the quality plot, the GIF of
the Fixed grids, and a grid as a TensorBoard image. Each writes to the path it is given; making
that write whole is the caller's job."""
import imageio.v3 as iio
import matplotlib
import numpy as np
import tensorflow.compat.v1 as tf

matplotlib.use('Agg')  # files only, no window: also works on a machine with no display
import matplotlib.pyplot as plt  # after use('Agg'): the backend must be chosen first


class GridFigure:
    """A grid of generated digits, columns x columns, with a caption, as the reference's
    show_result drew it (5x5; the conditional references' 10x10, a row per digit), but as one
    image instead of a subplot each: about 15 ms a picture instead of several hundred."""

    def __init__(self, columns=5):
        self.columns, inches = columns, max(5, 0.7 * columns)  # 5x5: 500 x 500 pixels, as the reference's
        self.fig = plt.figure(figsize=(inches, inches))
        ax = self.fig.add_axes([0.05, 0.07, 0.9, 0.9])  # 5x5: 450 pixels, each image pixel drawn 3x3
        ax.axis('off')
        self.image = ax.imshow(np.zeros((150, 150)), cmap='gray', vmin=-1, vmax=1,
                               interpolation='nearest')
        self.caption = self.fig.text(0.5, 0.025, '', ha='center')

    def save(self, images, caption, path):
        """Save the first columns x columns square images (N x 784, or N x size x size x 1, in
        [-1, 1]) and return the picture as gray uint8."""
        size, n = round(images[0].size ** 0.5), self.columns ** 2
        tile, grid = size + 2, self.columns * (size + 2)
        tiles = np.full((n, tile, tile), np.nan, np.float32)  # NaN: a blank 1-pixel frame per tile
        tiles[:len(images[:n]), 1:-1, 1:-1] = images[:n].reshape(-1, size, size)
        self.image.set_data(tiles.reshape(self.columns, self.columns, tile, tile).transpose(0, 2, 1, 3).reshape(grid, grid))
        self.image.set_extent((-0.5, grid - 0.5, grid - 0.5, -0.5))
        self.caption.set_text(caption)
        self.fig.savefig(path, format='png')
        return np.asarray(self.fig.canvas.buffer_rgba())[..., 0].copy()


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
    """Rows of square images (R x C x side x side, in [-1, 1]; NaN: an empty tile), each row
    labelled on its left, and a caption below: --sample's sheet by digit, --interpolate's walks.
    A 28x28 image is drawn 3x3 screen pixels a pixel, as in the 5x5 grid."""
    n_rows, n_columns, side = rows.shape[:3]
    tile, scale = side + 2, max(1, 84 // side)  # a blank 1-pixel frame around each image
    sheet = np.full((n_rows, tile, n_columns, tile), np.nan, np.float32)
    sheet[:, 1:-1, :, 1:-1] = rows.transpose(0, 2, 1, 3)
    width, height = n_columns * tile * scale / 100, n_rows * tile * scale / 100  # inches at 100 dpi
    margin_left, margin_bottom = 1.5, 0.4
    fig = plt.figure(figsize=(width + margin_left + 0.1, height + margin_bottom + 0.1), dpi=100)
    ax = fig.add_axes([margin_left / (width + margin_left + 0.1), margin_bottom / (height + margin_bottom + 0.1),
                       width / (width + margin_left + 0.1), height / (height + margin_bottom + 0.1)])
    ax.imshow(sheet.reshape(n_rows * tile, n_columns * tile), cmap='gray', vmin=-1, vmax=1,
              interpolation='nearest')
    ax.set_xticks([])
    ax.set_yticks((np.arange(n_rows) + 0.5) * tile - 0.5, labels)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.text(0.5, 0.15 / (height + margin_bottom + 0.1), caption, ha='center')
    fig.savefig(path, format='png')
    plt.close(fig)


def tiled(images, columns, scale=3):
    """Square images (N x side x side, in [-1, 1]) side by side in rows of `columns`, each pixel
    drawn scale x scale, as gray uint8 with a black 1-pixel frame around each: a GIF frame."""
    n, side = len(images), images.shape[-1]
    rows = -(-n // columns)
    tiles = np.full((rows * columns, side + 2, side + 2), -1, np.float32)
    tiles[:n, 1:-1, 1:-1] = images
    grid = tiles.reshape(rows, columns, side + 2, side + 2).transpose(0, 2, 1, 3).reshape(rows * (side + 2), -1)
    return np.kron(np.round((grid + 1) * 127.5).astype(np.uint8), np.ones((scale, scale), np.uint8))


def save_gif(frames, path, duration=200):
    # 5 fps by default, as the reference; optimize=False keeps one 256-gray palette for every
    # frame, without which Pillow reads a later frame in another mode than the first
    iio.imwrite(path, np.stack(frames), extension='.gif', duration=duration, loop=0, optimize=False)


def gray_image(tag, picture):
    """A TensorBoard image summary of a gray uint8 picture, PNG-encoded as tf.summary.image does."""
    height, width = picture.shape
    png = iio.imwrite('<bytes>', picture, extension='.png')
    return tf.Summary(value=[tf.Summary.Value(tag=tag, image=tf.Summary.Image(
        height=height, width=width, colorspace=1, encoded_image_string=png))])


def close(*figures):
    for figure in figures:
        plt.close(figure.fig)
