/* placeholder: being written */
#include <glib.h>
int main (void) { g_error ("not written yet"); }
