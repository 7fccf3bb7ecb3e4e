#!/bin/sh
echo "app: $(openssl version)"
