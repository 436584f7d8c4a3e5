/* Prints the machine name the kernel (or qemu-user) reports, as `uname -m` would. */
#include <stdio.h>
#include <sys/utsname.h>

int main(void)
{
	struct utsname name;

	if (uname(&name) != 0) {
		perror("uname");
		return 1;
	}
	printf("%s\n", name.machine);
	return 0;
}
