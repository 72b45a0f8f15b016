"""Operations: what changes hosts. Each decides from facts already read and sends its
commands under the host's deploy lock; the shell they run is in the `.sh` files here."""
