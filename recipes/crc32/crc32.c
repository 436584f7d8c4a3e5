/* Prints the CRC-32 (IEEE 802.3) of its standard input, as `crc32` tools do. */
#include <stdint.h>
#include <stdio.h>

int main(void)
{
	uint32_t crc = 0xffffffffu;
	int c;

	while ((c = getchar()) != EOF) {
		crc ^= (uint32_t)c;
		for (int bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1u));
	}
	printf("%08x\n", crc ^ 0xffffffffu);
	return 0;
}
