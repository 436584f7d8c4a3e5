/*
 * Proves two claims made for static musl binaries: they resolve names through DNS and convert
 * between charsets without any file from a libc installation (no NSS modules, no gconv
 * modules), so they work in an otherwise empty container.
 *
 *   musl-claims resolve NAME   prints NAME=ADDRESS (IPv4), or the resolver's error (exit 1)
 *   musl-claims iconv          prints "café naïve" converted from UTF-8 to ISO-8859-1, in hex
 */
#include <arpa/inet.h>
#include <iconv.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static int resolve(const char *name)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM };
	struct addrinfo *result;
	char text[INET_ADDRSTRLEN];
	int rc = getaddrinfo(name, NULL, &hints, &result);

	if (rc != 0) {
		printf("%s: %s\n", name, gai_strerror(rc));
		return 1;
	}
	inet_ntop(AF_INET, &((struct sockaddr_in *)result->ai_addr)->sin_addr, text, sizeof text);
	printf("%s=%s\n", name, text);
	freeaddrinfo(result);
	return 0;
}

static int convert_to_latin1(void)
{
	char input[] = "caf\xc3\xa9 na\xc3\xafve"; /* "café naïve" in UTF-8 */
	char output[32];
	char *in = input, *out = output;
	size_t in_left = strlen(input), out_left = sizeof output;
	iconv_t cd = iconv_open("ISO-8859-1", "UTF-8");

	if (cd == (iconv_t)-1) {
		perror("iconv_open");
		return 1;
	}
	if (iconv(cd, &in, &in_left, &out, &out_left) == (size_t)-1) {
		perror("iconv");
		return 1;
	}
	iconv_close(cd);
	printf("latin1=");
	for (char *p = output; p < out; p++)
		printf("%02x", (unsigned char)*p);
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "resolve") == 0)
		return resolve(argv[2]);
	if (argc == 2 && strcmp(argv[1], "iconv") == 0)
		return convert_to_latin1();
	fprintf(stderr, "usage: musl-claims resolve NAME | iconv\n");
	return 2;
}
