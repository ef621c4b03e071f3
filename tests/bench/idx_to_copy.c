/*
 * idx_to_copy.c - an IDX image file (MNIST's format) as COPY text rows.
 *
 * Reads an uncompressed idx3-ubyte file on standard input (big-endian magic
 * 0x00000803, then the image count, rows and columns, then one unsigned byte
 * per pixel) and writes one line per image, "ID<TAB>[p1,p2,...]", with the
 * raw pixel values 0..255 as the vector's elements, ready for
 * COPY table (id, v) FROM STDIN.  IDs count from 1.
 *
 *   gzip -dc train-images-idx3-ubyte.gz | idx_to_copy [LIMIT]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint32_t
read_be32(FILE *f)
{
	unsigned char b[4];

	if (fread(b, 1, 4, f) != 4)
	{
		fprintf(stderr, "idx_to_copy: short header\n");
		exit(1);
	}
	return ((uint32_t) b[0] << 24) | ((uint32_t) b[1] << 16) | ((uint32_t) b[2] << 8) | b[3];
}

int
main(int argc, char **argv)
{
	uint32_t	magic,
				count,
				rows,
				cols;
	long		limit = -1;
	size_t		pixels;
	unsigned char *img;
	char	   *line;

	if (argc > 2 || (argc == 2 && (limit = strtol(argv[1], NULL, 10)) < 0))
	{
		fprintf(stderr, "usage: idx_to_copy [LIMIT] < file-idx3-ubyte\n");
		return 2;
	}
	magic = read_be32(stdin);
	if (magic != 0x00000803)
	{
		fprintf(stderr, "idx_to_copy: not an idx3-ubyte file (magic 0x%08x)\n", (unsigned) magic);
		return 1;
	}
	count = read_be32(stdin);
	rows = read_be32(stdin);
	cols = read_be32(stdin);
	pixels = (size_t) rows * cols;
	if (pixels == 0 || pixels > 16000)
	{
		fprintf(stderr, "idx_to_copy: %ux%u images do not fit a vector\n", (unsigned) rows, (unsigned) cols);
		return 1;
	}
	if (limit >= 0 && (uint32_t) limit < count)
		count = (uint32_t) limit;

	img = malloc(pixels);
	line = malloc(pixels * 4 + 32);
	if (img == NULL || line == NULL)
	{
		fprintf(stderr, "idx_to_copy: out of memory\n");
		return 1;
	}
	for (uint32_t n = 0; n < count; n++)
	{
		char	   *p = line;

		if (fread(img, 1, pixels, stdin) != pixels)
		{
			fprintf(stderr, "idx_to_copy: file ends after %u of %u images\n", (unsigned) n, (unsigned) count);
			return 1;
		}
		p += sprintf(p, "%u\t[", (unsigned) n + 1);
		for (size_t i = 0; i < pixels; i++)
		{
			unsigned	v = img[i];

			if (v >= 100)
				*p++ = (char) ('0' + v / 100);
			if (v >= 10)
				*p++ = (char) ('0' + v / 10 % 10);
			*p++ = (char) ('0' + v % 10);
			*p++ = ',';
		}
		p[-1] = ']';
		*p++ = '\n';
		if (fwrite(line, 1, (size_t) (p - line), stdout) != (size_t) (p - line))
		{
			perror("idx_to_copy");
			return 1;
		}
	}
	free(img);
	free(line);
	return fflush(stdout) == 0 ? 0 : 1;
}
